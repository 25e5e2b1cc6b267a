import { assert, assertEquals, assertThrows } from "../../helpers/assert.ts";
import { duplexPipe } from "../../helpers/mux_pipe.ts";
import { Muxer } from "../../../src/transport/mux/muxer.ts";
import { MemoryBudget } from "../../../src/transport/mux/receive-budget.ts";
import { StreamResetError } from "../../../src/transport/stream.ts";
import type { ByteStream } from "../../../src/transport/stream.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

Deno.test("receive budget: charges fit both the connection and the node; close gives everything back", () => {
  const node = new MemoryBudget({ total: 3 * MiB, perConnection: 2 * MiB });
  const a = node.connection();
  const b = node.connection();
  assert(a.tryCharge(2 * MiB));
  assert(!a.tryCharge(1), "over the connection budget");
  assert(a.underPressure);
  assert(b.tryCharge(MiB));
  assert(!b.tryCharge(1), "over the node budget");
  assertEquals(node.used, 3 * MiB);
  a.release(MiB);
  assertEquals(a.used, MiB);
  a.close();
  a.release(MiB); // after close: no effect
  assertEquals(node.used, MiB);
  assert(!a.tryCharge(1), "a closed connection takes nothing");
  assert(!b.allowsWindow(MiB * 2), "a window above half the connection budget");
  assertThrows(() => new MemoryBudget({ total: 0 }), RangeError);
});

Deno.test("receive budget: streams beyond the connection budget are reset with the memory code", async () => {
  const [a, b] = duplexPipe();
  const budget = new MemoryBudget({ perConnection: MiB });
  const held: ByteStream[] = [];
  const opener = new Muxer(a, { initiator: true });
  const receiver = new Muxer(b, { initiator: false, budget: budget.connection(), onStream: (s) => held.push(s) });
  try {
    const streams = await Promise.all(Array.from({ length: 16 }, () => opener.openStream()));
    const data = new Uint8Array(255 * KiB);
    const outcomes = await Promise.all(
      streams.map(async (s) => {
        await s.write(data).catch(() => {});
        return await s.read().then(() => "open", (e) => e);
      }).map((p) => Promise.race([p, new Promise((r) => setTimeout(() => r("open"), 2_000))])),
    );
    const reset = outcomes.filter((o) => o instanceof StreamResetError) as StreamResetError[];
    assert(reset.length > 0, "some streams were reset");
    assert(reset.every((e) => /memory budget/.test(e.message)), reset.map((e) => e.message).join("; "));
    assert(receiver.bufferedBytes <= MiB, `buffered ${receiver.bufferedBytes}`);
    assert(receiver.memoryRefusals >= reset.length);
    // Dropping what was held frees the budget: new streams are accepted again.
    for (const s of held) s.reset("done");
    assertEquals(receiver.bufferedBytes, 0);
    const again = await opener.openStream();
    await again.write(new Uint8Array(100 * KiB));
    await again.closeWrite();
    await new Promise((r) => setTimeout(r, 50));
    assertEquals(receiver.bufferedBytes, 100 * KiB);
  } finally {
    opener.close();
    receiver.close();
  }
  assertEquals(budget.used, 0, "closing the muxer gave its budget back");
});

Deno.test("receive budget: one bulk stream over a small budget is never reset and completes", async () => {
  const [a, b] = duplexPipe();
  const budget = new MemoryBudget({ perConnection: MiB });
  let received = 0;
  const done = Promise.withResolvers<void>();
  const receiver = new Muxer(b, {
    initiator: false,
    budget: budget.connection(),
    onStream: async (s) => {
      for (let c = await s.read(); c !== null; c = await s.read()) {
        received += c.length;
        if (received % (4 * MiB) < c.length) await new Promise((r) => setTimeout(r, 5)); // a slow reader now and then
      }
      done.resolve();
    },
  });
  const opener = new Muxer(a, { initiator: true });
  try {
    const s = await opener.openStream();
    const chunk = new Uint8Array(64 * KiB);
    for (let i = 0; i < 512; i++) await s.write(chunk);
    await s.closeWrite();
    await done.promise;
    assertEquals(received, 32 * MiB);
    assertEquals(receiver.memoryRefusals, 0);
  } finally {
    opener.close();
    receiver.close();
  }
});

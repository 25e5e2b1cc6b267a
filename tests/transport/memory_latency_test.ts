/**
 * Per-link latency of the in-memory network: each direction is delayed by
 * its own amount, data and the FIN keep their order, a latency set on a live
 * connection applies to it.
 */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { MemoryNetwork } from "../../src/transport/memory.ts";
import type { Session } from "../../src/transport/session.ts";
import type { ByteStream } from "../../src/transport/stream.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import { utf8 } from "../../src/util/bytes.ts";

const newId = () => new NodeId(KeyPair.generate().publicKey);

Deno.test("memory latency: each direction of a link has its own delay; data and FIN arrive in order", async () => {
  const network = new MemoryNetwork();
  const a = newId();
  const b = newId();
  const accepted: Session[] = [];
  network.listen("b", b, (session) => accepted.push(session));
  network.setLinkLatency("a", "b", 60);
  network.setLinkLatency("b", "a", 10);
  assertEquals(network.linkLatency("a", "b"), 60);
  const outbound = network.connect("b", a, "a", b);
  const server = new Promise<ByteStream>((resolve) => accepted[0].onStream(resolve));
  const t0 = performance.now();
  const stream = await outbound.openStream();
  await stream.write(utf8("one"));
  await stream.write(utf8("two"));
  await stream.closeWrite();
  const remote = await server;
  const opened = performance.now() - t0;
  assertEquals(await remote.read(), utf8("one"));
  const arrived = performance.now() - t0;
  assertEquals(await remote.read(), utf8("two"));
  assertEquals(await remote.read(), null, "the FIN after the data");
  assert(opened >= 55 && arrived >= 55, `a → b took ${opened.toFixed(0)} / ${arrived.toFixed(0)} ms, set 60`);
  const t1 = performance.now();
  await remote.write(utf8("back"));
  assertEquals(await stream.read(), utf8("back"));
  const back = performance.now() - t1;
  assert(back >= 8 && back < 55, `b → a took ${back.toFixed(0)} ms, set 10`);
  outbound.close();
});

Deno.test("memory latency: a change applies to a live connection; 0 removes it; negative is refused", async () => {
  const network = new MemoryNetwork();
  const a = newId();
  const b = newId();
  network.listen("b", b, (session) =>
    session.onStream(async (s) => {
      try {
        for (let chunk = await s.read(); chunk; chunk = await s.read()) await s.write(chunk);
      } catch {
        // the connection closes at the end of the test
      }
    }));
  const session = network.connect("b", a, "a", b);
  const stream = await session.openStream();
  const rtt = async () => {
    const t = performance.now();
    await stream.write(utf8("x"));
    await stream.read();
    return performance.now() - t;
  };
  assert((await rtt()) < 20, "no latency by default");
  network.setLinkLatency("a", "b", 30);
  network.setLinkLatency("b", "a", 30);
  assert((await rtt()) >= 55, "60 ms round trip once set");
  network.setLinkLatency("a", "b", 0);
  network.setLinkLatency("b", "a", 0);
  assertEquals(network.linkLatency("a", "b"), 0);
  assert((await rtt()) < 20, "removed");
  assertThrows(() => network.setLinkLatency("a", "b", -1), RangeError);
  session.close();
});

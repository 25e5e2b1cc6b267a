/**
 * Child process for `tests/transport/mux/memory_budget_test.ts`: a TCP +
 * Noise listener on 127.0.0.1 whose `/sink/1` handler accepts streams and
 * never reads them. Prints `{ port, id }` (id as hex) on its first line, then
 * answers each `measure` line on stdin with `{ rss, used }` (RSS after a
 * full GC; bytes charged to the receive budget, -1 if there is none).
 *
 * Run: `deno run --allow-all --v8-flags=--expose-gc tests/helpers/mux_memory_receiver.ts`
 */
import { TcpTransport } from "../../src/transport/tcp.ts";
import { currentPlatform } from "../../src/platform/current.ts";
import { toHex } from "../../src/util/bytes.ts";
import { testContext } from "./transport_context.ts";

const ctx = testContext();
ctx.handlers.set("/sink/1", (stream) => stream.closed);
const transport = new TcpTransport(currentPlatform().tcp, { host: "127.0.0.1", port: 0 });
await transport.start(ctx);
const addr = transport.listenAddresses[0];
if (addr.type !== "direct") throw new Error("unexpected address");
console.log(JSON.stringify({ port: addr.port, id: toHex(ctx.keyPair.publicKey) }));

const gc = (globalThis as { gc?: () => void }).gc;
/** glibc's malloc_trim, to hand freed heap pages back to the OS so RSS shows what is held, not the high-water mark. */
function trimmer(): (() => void) | null {
  try {
    const libc = Deno.dlopen("libc.so.6", { malloc_trim: { parameters: ["usize"], result: "i32" } });
    return () => void libc.symbols.malloc_trim(0n);
  } catch {
    return null;
  }
}
const trim = Deno.env.get("MACULA_TEST_NO_TRIM") ? null : trimmer();
const decoder = new TextDecoder();
let pending = "";
for await (const chunk of Deno.stdin.readable) {
  pending += decoder.decode(chunk, { stream: true });
  let nl: number;
  while ((nl = pending.indexOf("\n")) >= 0) {
    const line = pending.slice(0, nl).trim();
    pending = pending.slice(nl + 1);
    if (line !== "measure") continue;
    const peak = Deno.memoryUsage().rss;
    for (let i = 0; i < 3; i++) {
      gc?.();
      await new Promise((r) => setTimeout(r, 100));
    }
    trim?.();
    const memory = (transport as { memory?: { used: number } }).memory;
    const usage = Deno.memoryUsage();
    console.log(
      JSON.stringify({ rss: usage.rss, peak, external: usage.external, used: memory?.used ?? -1, trimmed: !!trim }),
    );
  }
}
await transport.close();

/**
 * A peer that opens 1,024 streams over real TCP + Noise and writes 256 KiB
 * on each (all the window the protocol grants a new stream) without the
 * receiver reading cannot make the receiver buffer more than its
 * per-connection budget (16 MiB), nor grow its RSS by more than the node
 * budget (64 MiB). The receiver is a child process, so its RSS is its own;
 * it is measured after a full GC and glibc's `malloc_trim` (see
 * `mux_memory_receiver.ts`), i.e. what is held, not the transient peak of
 * decrypting the data of streams it reset (printed too).
 */
import { assert } from "../../helpers/assert.ts";
import { testContext } from "../../helpers/transport_context.ts";
import { TcpTransport } from "../../../src/transport/tcp.ts";
import { currentPlatform } from "../../../src/platform/current.ts";
import { NodeId } from "../../../src/identity/node-id.ts";
import { fromHex } from "../../../src/util/bytes.ts";
import {
  DEFAULT_CONNECTION_RECEIVE_BUDGET,
  DEFAULT_NODE_RECEIVE_BUDGET,
} from "../../../src/transport/mux/receive-budget.ts";

const MiB = 1024 * 1024;
const STREAMS = 1024;
// All the window a new stream has (256 KiB) but the negotiation header: the writes complete without the receiver reading.
const PER_STREAM = 255 * 1024;

class Lines {
  #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }
  async next(): Promise<string> {
    for (;;) {
      const nl = this.#buffer.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buffer.slice(0, nl);
        this.#buffer = this.#buffer.slice(nl + 1);
        return line;
      }
      const { value, done } = await this.#reader.read();
      if (done) throw new Error("receiver exited");
      this.#buffer += value;
    }
  }
}

Deno.test({
  name: "mux memory: 1,024 streams written without reading stay within the receiver's budget (RSS in a child)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--v8-flags=--expose-gc",
        new URL("../../helpers/mux_memory_receiver.ts", import.meta.url).pathname,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const lines = new Lines(child.stdout);
    const stdin = child.stdin.getWriter();
    const measure = async (): Promise<{ rss: number; used: number }> => {
      await stdin.write(new TextEncoder().encode("measure\n"));
      return JSON.parse(await lines.next());
    };
    const client = new TcpTransport(currentPlatform().tcp, { host: "127.0.0.1", port: 0 });
    try {
      const { port, id } = JSON.parse(await lines.next());
      await client.start(testContext());
      const conn = await client.dial({ type: "direct", kind: "tcp", host: "127.0.0.1", port }, new NodeId(fromHex(id)));
      const payload = crypto.getRandomValues(new Uint8Array(64 * 1024));
      const flood = async (n: number, bytes: number) => {
        let served = 0, refused = 0;
        await Promise.all(Array.from({ length: n }, async () => {
          try {
            const s = await conn.openStream("/sink/1");
            for (let off = 0; off < bytes; off += payload.length) {
              await s.write(payload.subarray(0, Math.min(payload.length, bytes - off)));
            }
            served++;
          } catch {
            refused++;
          }
        }));
        return { served, refused };
      };
      // Warm-up: the same code paths with little data, so the baseline includes them.
      await flood(64, 4096);
      const before = await measure();
      const { served, refused } = await flood(STREAMS, PER_STREAM);
      await new Promise((r) => setTimeout(r, 1_000));
      const after = await measure();
      const growth = after.rss - before.rss;
      console.log(
        `receiver: buffered ${(after.used / MiB).toFixed(1)} MiB, RSS ${(before.rss / MiB).toFixed(0)} -> ` +
          `${(after.rss / MiB).toFixed(0)} MiB (+${(growth / MiB).toFixed(1)}) after GC and malloc_trim ` +
          `(peak before GC ${((after as { peak?: number }).peak ?? 0) / MiB | 0} MiB); ${served} streams written, ` +
          `${refused} refused or reset`,
      );
      assert(growth <= DEFAULT_NODE_RECEIVE_BUDGET, `RSS grew by ${(growth / MiB).toFixed(1)} MiB > 64 MiB`);
      assert(after.used >= 0, "the receiver has a receive budget");
      assert(after.used <= DEFAULT_CONNECTION_RECEIVE_BUDGET, `buffered ${after.used} B > the connection budget`);
      assert(refused > 0, "the budget refused or reset streams");
      assert(served * PER_STREAM >= DEFAULT_CONNECTION_RECEIVE_BUDGET / 2, "streams were served until the budget");
      conn.close("done");
    } finally {
      await client.close();
      await stdin.close().catch(() => {});
      try {
        child.kill("SIGKILL");
      } catch {
        // exited
      }
      await child.status;
    }
  },
});

/**
 * The byte pipe of a circuit: copies both directions between two streams,
 * one chunk at a time (the next read waits until the write was accepted, so
 * the slower side's flow control reaches the faster one), paying every
 * chunk to the rate limiters before the next read. Ends cleanly when both
 * sides half-closed; an error or reset on either side resets both.
 *
 * @module
 */
import type { ByteStream } from "../transport/stream.ts";
import type { TokenBucket } from "../util/token-bucket.ts";

/** Options of `pipeCircuit`. */
export interface PipeOptions {
  /** Rate limiters every chunk pays to (e.g. the circuit's and the relay's). */
  buckets?: readonly TokenBucket[];
  /** Called with the size of every forwarded chunk. */
  onBytes?: (n: number) => void;
  /** Aborting it resets both streams. */
  signal?: AbortSignal;
}

async function copy(from: ByteStream, to: ByteStream, options: PipeOptions): Promise<void> {
  for (;;) {
    const chunk = await from.read();
    if (chunk === null) {
      await to.closeWrite();
      return;
    }
    for (const bucket of options.buckets ?? []) await bucket.take(chunk.length, options.signal);
    await to.write(chunk);
    options.onBytes?.(chunk.length);
  }
}

/**
 * Forward bytes between `a` and `b` in both directions until both ends are
 * done. Resolves (never rejects) when the circuit is over.
 *
 * @example
 * ```ts
 * import { pipeCircuit } from "./circuit.ts";
 * import { TokenBucket } from "../util/token-bucket.ts";
 * declare const dialer: import("../transport/stream.ts").ByteStream;
 * declare const target: import("../transport/stream.ts").ByteStream;
 * let bytes = 0;
 * await pipeCircuit(dialer, target, { buckets: [new TokenBucket(1 << 20)], onBytes: (n) => bytes += n });
 * ```
 */
export async function pipeCircuit(a: ByteStream, b: ByteStream, options: PipeOptions = {}): Promise<void> {
  const fail = (why: string) => {
    a.reset(why);
    b.reset(why);
  };
  const onAbort = () => fail("circuit closed by the relay");
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await Promise.all([
      copy(a, b, options).catch(() => fail("circuit broken")),
      copy(b, a, options).catch(() => fail("circuit broken")),
    ]);
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }
}

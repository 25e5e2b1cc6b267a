/**
 * In-memory duplex pairs for multiplexer tests: what one side writes, the
 * other reads, in order. With a `bound`, a write waits while the peer has
 * that many unread bytes queued, like a full socket buffer.
 *
 * @module
 */
import { deferred } from "../../src/util/async.ts";
import { ChunkQueue } from "../../src/transport/stream.ts";
import type { Duplex } from "../../src/transport/mux/muxer.ts";

/** Options of `duplexPipe`. */
export interface PipeOptions {
  /** Unread bytes a direction may hold before writes block. Default: unbounded. */
  bound?: number;
}

/** One direction of a pipe. */
class Channel {
  readonly queue: ChunkQueue;
  #bound: number;
  #waiters: ReturnType<typeof deferred<void>>[] = [];
  #broken: Error | null = null;
  /** Bytes ever written into this direction. */
  written = 0;

  constructor(bound: number) {
    this.#bound = bound;
    this.queue = new ChunkQueue(() => this.#release());
  }

  async write(chunk: Uint8Array): Promise<void> {
    while (this.#broken === null && this.queue.bytes >= this.#bound) {
      const waiter = deferred<void>();
      this.#waiters.push(waiter);
      await waiter.promise;
    }
    if (this.#broken) throw this.#broken;
    this.written += chunk.length;
    this.queue.push(chunk);
  }

  /** No more writes: the reader sees EOF after what is queued. */
  end(error: Error): void {
    if (this.#broken) return;
    this.#broken = error;
    this.queue.end();
    this.#release(true);
  }

  /** Reads reject with `error`; queued data is dropped; with `breakWrites`, writes fail too. */
  fail(error: Error, breakWrites: boolean): void {
    this.queue.fail(error);
    if (breakWrites && !this.#broken) this.#broken = error;
    this.#release(true);
  }

  #release(all = false): void {
    if (!all && this.queue.bytes >= this.#bound) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.resolve();
  }
}

/** One end of an in-memory pipe. */
export class MemoryDuplex implements Duplex {
  #in: Channel;
  #out: Channel;
  #closed = false;

  constructor(incoming: Channel, outgoing: Channel) {
    this.#in = incoming;
    this.#out = outgoing;
  }

  /** True once `close()` was called on this end. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Bytes this end has written. */
  get bytesWritten(): number {
    return this.#out.written;
  }

  /** Bytes written to this end and not read yet. */
  get unread(): number {
    return this.#in.queue.bytes;
  }

  read(): Promise<Uint8Array | null> {
    return this.#in.queue.read();
  }

  write(chunk: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("duplex is closed"));
    return this.#out.write(chunk);
  }

  /** Close both directions: the peer reads EOF after our data; our reads end. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#out.end(new Error("peer closed the duplex"));
    this.#in.fail(new Error("duplex is closed"), true);
  }

  /** Test hook: make pending and future reads on this end reject with `error` (e.g. a failed decryption). */
  failReads(error: Error): void {
    this.#in.fail(error, false);
  }
}

/**
 * Two connected in-memory duplexes.
 *
 * @example
 * ```ts
 * import { duplexPipe } from "./mux_pipe.ts";
 * const [a, b] = duplexPipe({ bound: 64 * 1024 });
 * await a.write(new Uint8Array([1, 2, 3]));
 * await b.read(); // Uint8Array [1, 2, 3]
 * ```
 */
export function duplexPipe(
  options: PipeOptions = {},
): [MemoryDuplex, MemoryDuplex] {
  const bound = options.bound ?? Infinity;
  const aToB = new Channel(bound);
  const bToA = new Channel(bound);
  return [new MemoryDuplex(bToA, aToB), new MemoryDuplex(aToB, bToA)];
}

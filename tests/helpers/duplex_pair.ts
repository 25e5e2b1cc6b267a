/**
 * An in-memory pair of connected raw duplexes (a fake TCP connection) for
 * tests, built on `ChunkQueue`.
 *
 * - Bytes written on one end are read on the other, in order, in chunks of
 *   at most `maxChunk` bytes (to exercise reassembly).
 * - `write()` waits while more than `highWaterMark` bytes are unread
 *   (backpressure), so a fast writer cannot buffer unbounded data.
 * - `close()` ends the peer's reads (after the data already written) and
 *   fails our own pending and later reads and writes; writes to a closed
 *   peer reject, like a reset TCP connection.
 *
 * @module
 */
import type { RawDuplex } from "../../src/secure/secure-channel.ts";
import { ChunkQueue } from "../../src/transport/stream.ts";

/** Tunables of `duplexPair`. */
export interface DuplexPairOptions {
  /** Unread bytes per direction before `write()` waits. Default 1 MiB. */
  highWaterMark?: number;
  /** Split every write into chunks of at most this many bytes. Default: no split. */
  maxChunk?: number;
}

/** One end of a `duplexPair`. */
export interface MemoryDuplex extends RawDuplex {
  /** True once `close()` was called on this end. */
  readonly isClosed: boolean;
}

class Pipe {
  readonly queue: ChunkQueue;
  readonly #highWaterMark: number;
  #unread = 0;
  #waiters: (() => void)[] = [];

  constructor(highWaterMark: number) {
    this.#highWaterMark = highWaterMark;
    this.queue = new ChunkQueue((n) => {
      this.#unread -= n;
      if (this.#unread < this.#highWaterMark) this.wake();
    });
  }

  async push(chunk: Uint8Array): Promise<void> {
    this.#unread += chunk.length;
    this.queue.push(chunk);
    while (this.#unread >= this.#highWaterMark && !this.queue.finished) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

class End implements MemoryDuplex {
  readonly #rx: Pipe;
  readonly #tx: Pipe;
  readonly #maxChunk: number;
  #closed = false;

  constructor(rx: Pipe, tx: Pipe, maxChunk: number) {
    this.#rx = rx;
    this.#tx = tx;
    this.#maxChunk = maxChunk;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  read(): Promise<Uint8Array | null> {
    return this.#rx.queue.read();
  }

  async write(chunk: Uint8Array): Promise<void> {
    for (let off = 0; off < chunk.length; off += this.#maxChunk) {
      if (this.#closed) throw new Error("duplex is closed");
      if (this.#tx.queue.finished) throw new Error("peer closed the duplex");
      await this.#tx.push(chunk.subarray(off, off + this.#maxChunk));
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#tx.queue.end();
    this.#rx.queue.fail(new Error("duplex is closed"));
    this.#tx.wake();
    this.#rx.wake();
  }
}

/**
 * Two connected in-memory duplexes.
 *
 * @example
 * ```ts
 * import { duplexPair } from "./duplex_pair.ts";
 * const [a, b] = duplexPair();
 * await a.write(new Uint8Array([1, 2, 3]));
 * await b.read(); // Uint8Array [1, 2, 3]
 * ```
 */
export function duplexPair(
  options: DuplexPairOptions = {},
): [MemoryDuplex, MemoryDuplex] {
  const highWaterMark = options.highWaterMark ?? 1024 * 1024;
  const maxChunk = options.maxChunk ?? Number.MAX_SAFE_INTEGER;
  const ab = new Pipe(highWaterMark);
  const ba = new Pipe(highWaterMark);
  return [new End(ba, ab, maxChunk), new End(ab, ba, maxChunk)];
}

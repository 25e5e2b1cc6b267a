/**
 * The byte stream every link provides, and the receive queue the in-process
 * links build theirs from.
 *
 * @module
 */
import { deferred } from "../util/async.ts";
import { MaculaError } from "../util/errors.ts";

/** Thrown by reads and writes on a stream that was reset by either side. */
export class StreamResetError extends MaculaError {
  /** `reason` says who reset it and why. */
  constructor(reason = "stream was reset") {
    super("E_STREAM_RESET", reason);
  }
}

/** Thrown by writes after `closeWrite()`. */
export class StreamClosedError extends MaculaError {
  /** `message` says what was refused. */
  constructor(message = "stream is closed for writing") {
    super("E_STREAM_CLOSED", message);
  }
}

/**
 * A reliable, ordered, bidirectional byte stream with backpressure and
 * half-close.
 *
 * - `read()` resolves with the next chunk, or `null` once the remote side has
 *   half-closed and everything it sent was read. It rejects with
 *   `StreamResetError` if the stream was reset.
 * - `write()` resolves once the chunk fits the flow-control window; await it
 *   to respect backpressure. The chunk must not be modified afterwards.
 * - `closeWrite()` half-closes: the remote reads `null` after our data.
 * - `reset()` aborts both directions at once.
 * - `closed` resolves (never rejects) once both directions are finished.
 */
export interface ByteStream {
  /** The next chunk, or `null` after the remote half-closed; rejects with `StreamResetError`. */
  read(): Promise<Uint8Array | null>;
  /** Resolves once `chunk` fits the window; do not modify it afterwards. */
  write(chunk: Uint8Array): Promise<void>;
  /** Half-close our direction. */
  closeWrite(): Promise<void>;
  /** Abort both directions. */
  reset(reason?: string): void;
  /** Resolves (never rejects) once both directions are finished. */
  readonly closed: Promise<void>;
}

/**
 * A queue of received chunks with a pending-read slot: the receive half of
 * an in-process stream. `onConsumed` reports bytes handed to the reader, so
 * a flow-control window can be reopened.
 */
export class ChunkQueue {
  #chunks: Uint8Array[] = [];
  #head = 0;
  #bytes = 0;
  #ended = false;
  #error: Error | null = null;
  #waiter: ReturnType<typeof deferred<Uint8Array | null>> | null = null;
  /** The most the pending read takes of the next chunk (`readUpTo`). */
  #waiterMax = Infinity;
  #onConsumed?: (n: number) => void;

  constructor(onConsumed?: (n: number) => void) {
    this.#onConsumed = onConsumed;
  }

  /** Bytes queued and not yet read. */
  get bytes(): number {
    return this.#bytes;
  }

  /** True once `end()` or `fail()` was called. */
  get finished(): boolean {
    return this.#ended || this.#error !== null;
  }

  /** True once the reader has consumed everything up to a clean end. */
  get drained(): boolean {
    return this.#ended && this.#bytes === 0;
  }

  /** Queue a chunk (ignored after `end()`/`fail()`). */
  push(chunk: Uint8Array): void {
    if (this.finished || chunk.length === 0) return;
    if (this.#waiter) {
      const w = this.#waiter;
      const max = this.#waiterMax;
      this.#waiter = null;
      this.#waiterMax = Infinity;
      if (chunk.length > max) {
        this.#chunks.push(chunk.subarray(max));
        this.#bytes += chunk.length - max;
        chunk = chunk.subarray(0, max);
      }
      this.#onConsumed?.(chunk.length);
      w.resolve(chunk);
      return;
    }
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
  }

  /** Mark a clean end of stream: reads return `null` once drained. */
  end(): void {
    if (this.finished) return;
    this.#ended = true;
    if (this.#waiter && this.#bytes === 0) {
      const w = this.#waiter;
      this.#waiter = null;
      w.resolve(null);
    }
  }

  /** Fail pending and future reads; drops queued data. */
  fail(error: Error): void {
    if (this.#error) return;
    this.#error = error;
    this.#chunks = [];
    this.#head = 0;
    this.#bytes = 0;
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = null;
      w.reject(error);
    }
  }

  /**
   * Read at most `max` bytes of the next chunk (`max` ≥ 1); the rest of it
   * stays queued. `null` at a clean end.
   */
  readUpTo(max: number): Promise<Uint8Array | null> {
    if (this.#head < this.#chunks.length && this.#chunks[this.#head].length > max) {
      const chunk = this.#chunks[this.#head];
      this.#chunks[this.#head] = chunk.subarray(max);
      this.#bytes -= max;
      this.#onConsumed?.(max);
      return Promise.resolve(chunk.subarray(0, max));
    }
    const next = this.read();
    if (this.#waiter) this.#waiterMax = max;
    return next;
  }

  /** Read the next chunk, `null` at a clean end. */
  read(): Promise<Uint8Array | null> {
    if (this.#error) return Promise.reject(this.#error);
    if (this.#head < this.#chunks.length) {
      const chunk = this.#chunks[this.#head];
      this.#head++;
      if (this.#head === this.#chunks.length) {
        this.#chunks = [];
        this.#head = 0;
      } else if (this.#head >= 1024) {
        this.#chunks = this.#chunks.slice(this.#head);
        this.#head = 0;
      }
      this.#bytes -= chunk.length;
      this.#onConsumed?.(chunk.length);
      return Promise.resolve(chunk);
    }
    if (this.#ended) return Promise.resolve(null);
    if (this.#waiter) return Promise.reject(new Error("concurrent read() on one stream"));
    this.#waiterMax = Infinity;
    this.#waiter = deferred();
    return this.#waiter.promise;
  }
}

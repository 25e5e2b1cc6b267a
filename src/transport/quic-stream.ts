/**
 * `ByteStream` over a QUIC bidirectional stream (web streams underneath).
 *
 * @module
 */
import type { QuicBidiStream } from "../platform/types.ts";
import { deferred } from "../util/async.ts";
import { type ByteStream, StreamClosedError, StreamResetError } from "./stream.ts";

/** Wraps one QUIC bidirectional stream. */
export class QuicByteStream implements ByteStream {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #readDone = false;
  #writeDone = false;
  #reset: StreamResetError | null = null;
  #closed = deferred<void>();

  constructor(stream: QuicBidiStream) {
    this.#reader = stream.readable.getReader();
    this.#writer = stream.writable.getWriter();
    this.#writer.closed.catch(() => {});
    this.#reader.closed.catch(() => {});
  }

  get closed(): Promise<void> {
    return this.#closed.promise;
  }

  #check(): void {
    if (this.#readDone && this.#writeDone) this.#closed.resolve();
  }

  async read(): Promise<Uint8Array | null> {
    if (this.#reset) throw this.#reset;
    if (this.#readDone) return null;
    let result: ReadableStreamReadResult<Uint8Array>;
    try {
      result = await this.#reader.read();
    } catch (error) {
      this.#fail(`stream reset: ${(error as Error)?.message ?? error}`);
      throw this.#reset!;
    }
    // A reset while the read was pending cancels the reader, which resolves it as done.
    if (this.#reset) throw this.#reset;
    if (result.done) {
      this.#readDone = true;
      this.#check();
      return null;
    }
    return result.value;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.#reset) throw this.#reset;
    if (this.#writeDone) throw new StreamClosedError();
    try {
      await this.#writer.write(chunk);
    } catch (error) {
      this.#fail(`stream reset: ${(error as Error)?.message ?? error}`);
      throw this.#reset!;
    }
  }

  async closeWrite(): Promise<void> {
    if (this.#reset) throw this.#reset;
    if (this.#writeDone) return;
    this.#writeDone = true;
    try {
      await this.#writer.close();
    } catch (error) {
      this.#fail(`stream reset: ${(error as Error)?.message ?? error}`);
      throw this.#reset!;
    } finally {
      this.#check();
    }
  }

  reset(reason = "stream was reset"): void {
    this.#fail(reason);
  }

  #fail(reason: string): void {
    if (this.#reset) return;
    this.#reset = new StreamResetError(reason);
    if (!this.#writeDone) this.#writer.abort(reason).catch(() => {});
    if (!this.#readDone) this.#reader.cancel(reason).catch(() => {});
    this.#readDone = this.#writeDone = true;
    this.#closed.resolve();
  }
}

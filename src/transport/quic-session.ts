/**
 * `Session` over an authenticated QUIC connection: each stream is a native
 * QUIC bidirectional stream, so flow control and multiplexing are QUIC's.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { QuicBidiStream, QuicConnection } from "../platform/types.ts";
import { deferred } from "../util/async.ts";
import { hostPort } from "./address.ts";
import { ConnectionClosedError } from "./errors.ts";
import { QuicByteStream } from "./quic-stream.ts";
import type { CloseInfo, Direction, Session } from "./session.ts";
import type { ByteStream } from "./stream.ts";

/** Where a session takes the streams the peer opens from (a reader of `incomingBidirectionalStreams`). */
export interface IncomingStreams {
  /** The next stream the peer opened; `done` once the connection ended. */
  read(): Promise<ReadableStreamReadResult<QuicBidiStream>>;
}

/** QUIC application close codes. */
export const QUIC_CLOSE = { normal: 0, authFailed: 1, protocol: 2 } as const;

/** A session over one QUIC connection. */
export class QuicSession implements Session {
  readonly kind = "quic";
  readonly route = "direct";
  #conn: QuicConnection;
  #incoming: IncomingStreams;
  #handler: ((s: ByteStream) => void) | null = null;
  #streams = new Set<QuicByteStream>();
  #closed = deferred<CloseInfo>();
  #localReason: { reason: string; error?: Error } | null = null;
  #done = false;

  constructor(
    conn: QuicConnection,
    incoming: IncomingStreams,
    readonly localId: NodeId,
    readonly remoteId: NodeId,
    readonly direction: Direction,
  ) {
    this.#conn = conn;
    this.#incoming = incoming;
    conn.closed.then(
      (info) => this.#end(info.reason || `closed with code ${info.closeCode}`),
      (error) => this.#end(String(error?.message ?? error), error),
    );
  }

  get remoteAddress(): string {
    return hostPort(this.#conn.remoteAddr);
  }

  get closed(): Promise<CloseInfo> {
    return this.#closed.promise;
  }

  #track(stream: QuicByteStream): QuicByteStream {
    this.#streams.add(stream);
    stream.closed.then(() => this.#streams.delete(stream));
    return stream;
  }

  async openStream(): Promise<ByteStream> {
    if (this.#done) throw new ConnectionClosedError();
    try {
      return this.#track(new QuicByteStream(await this.#conn.createBidirectionalStream({ waitUntilAvailable: true })));
    } catch (error) {
      if (this.#done) throw new ConnectionClosedError();
      throw error;
    }
  }

  onStream(handler: (s: ByteStream) => void): void {
    if (this.#handler) throw new Error("onStream() already set");
    this.#handler = handler;
    this.#pump();
  }

  async #pump(): Promise<void> {
    try {
      while (true) {
        const { value, done } = await this.#incoming.read();
        if (done) break;
        this.#handler!(this.#track(new QuicByteStream(value)));
      }
    } catch {
      // connection closed
    }
  }

  close(reason = "closed", error?: Error, code: number = QUIC_CLOSE.normal): void {
    if (this.#done) return;
    this.#localReason = { reason, error };
    try {
      this.#conn.close({ closeCode: code, reason: reason.slice(0, 100) });
    } catch {
      // already closed
    }
    this.#end(reason, error);
  }

  #end(reason: string, error?: Error): void {
    if (this.#done) return;
    this.#done = true;
    for (const s of this.#streams) s.reset("connection closed");
    this.#streams.clear();
    const local = this.#localReason !== null;
    this.#closed.resolve({
      reason: local ? this.#localReason!.reason : reason,
      local,
      error: local ? this.#localReason!.error : error,
    });
  }
}

/**
 * `Connection`: what every link yields. It wraps a `Session` and adds
 * protocol negotiation with default-deny: the opener names a protocol, the
 * receiver's gate accepts it (handing the stream to a handler) or refuses
 * it, and the opener gets a typed error.
 *
 * Negotiation on a fresh stream: the opener writes one byte of length and
 * the protocol name (printable ASCII starting with `/`, at most 128 bytes);
 * the receiver answers one status byte: 0 accepted, 1 refused, 2 over the
 * stream limit.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import { AbortedError, withDeadline } from "../util/async.ts";
import { concat, fromUtf8, utf8 } from "../util/bytes.ts";
import { decodeCbor, encodeCbor } from "../wire/cbor.ts";
import { WireError } from "../wire/errors.ts";
import { BufferedReader, DEFAULT_MAX_FRAME, writeFrame } from "../wire/frame.ts";
import { ConnectionClosedError, LimitError, ProtocolRefusedError } from "./errors.ts";
import type { CloseInfo, Direction, Route, Session, TransportKind } from "./session.ts";
import { isSplittable, readExactly } from "./split-read.ts";
import type { ByteStream } from "./stream.ts";
import { StreamResetError } from "./stream.ts";

const STATUS_OK = 0;
const STATUS_REFUSED = 1;
const STATUS_LIMIT = 2;

const PROTOCOL_PATTERN = /^\/[\x21-\x7e]{1,127}$/;

/** Is `name` a well-formed protocol name (`/` + up to 127 printable ASCII)? */
export function isProtocolName(name: unknown): name is string {
  return typeof name === "string" && PROTOCOL_PATTERN.test(name);
}

/** Handles an accepted inbound stream. Errors it throws reset the stream. */
export type StreamHandler = (stream: Stream) => void | Promise<void>;

/**
 * Decides what to do with an inbound stream for `protocol`: return its
 * handler, or `null` to refuse (default-deny).
 */
export type InboundGate = (
  protocol: string,
  connection: Connection,
) => StreamHandler | null | Promise<StreamHandler | null>;

/** Tunables and hooks of a `Connection`. */
export interface ConnectionOptions {
  /** Concurrent inbound streams allowed; more are refused. Default 1024. */
  maxInboundStreams?: number;
  /** Time allowed for stream negotiation, ms. Default 10 000. */
  negotiationTimeout?: number;
  /** Called when the peer violated the wire protocol (the connection is then closed). */
  onProtocolViolation?: (connection: Connection, error: Error) => void;
  /** Called when an inbound stream handler failed. */
  onHandlerError?: (connection: Connection, protocol: string, error: unknown) => void;
}

/** Options of `Connection.openStream`. */
export interface OpenStreamOptions {
  /** Cancels the negotiation. */
  signal?: AbortSignal;
  /** Negotiation deadline in ms (defaults to the connection's). */
  timeout?: number;
}

let nextConnectionId = 1;

/**
 * A stream negotiated for one protocol on a `Connection`.
 *
 * @example
 * ```ts
 * import type { Connection } from "./connection.ts";
 * declare const conn: Connection;
 * const stream = await conn.openStream("/macula/ping/1");
 * await stream.writeMessage({ hello: "world" });
 * await stream.closeWrite();
 * ```
 */
export class Stream implements ByteStream {
  /** The negotiated protocol. */
  readonly protocol: string;
  /** The connection this stream runs on. */
  readonly connection: Connection;
  #raw: ByteStream;
  #reader: BufferedReader;

  /** @internal Built by `Connection`. */
  constructor(protocol: string, connection: Connection, raw: ByteStream, reader: BufferedReader) {
    this.protocol = protocol;
    this.connection = connection;
    this.#raw = raw;
    this.#reader = reader;
  }

  /** The authenticated id of the peer. */
  get remoteId(): NodeId {
    return this.connection.remoteId;
  }

  /** The next chunk, or `null` once the peer half-closed and all was read. */
  read(): Promise<Uint8Array | null> {
    this.connection.touch();
    return this.#reader.read();
  }

  /** Write `chunk`; resolves once it fits the flow-control window (await it for backpressure). */
  write(chunk: Uint8Array): Promise<void> {
    this.connection.touch();
    return this.#raw.write(chunk);
  }

  /** Half-close: the peer reads `null` after our data. */
  closeWrite(): Promise<void> {
    return this.#raw.closeWrite();
  }

  /** Abort both directions at once. */
  reset(reason?: string): void {
    this.#raw.reset(reason);
  }

  /** Resolves once both directions are finished. */
  get closed(): Promise<void> {
    return this.#raw.closed;
  }

  /** Read one length-prefixed frame (`null` at a clean end). */
  readFrame(maxSize = DEFAULT_MAX_FRAME, messageType = this.protocol): Promise<Uint8Array | null> {
    return this.#reader.readFrame(maxSize, messageType);
  }

  /** Write one length-prefixed frame. */
  writeFrame(payload: Uint8Array, maxSize = DEFAULT_MAX_FRAME): Promise<void> {
    return writeFrame(this.#raw, payload, maxSize);
  }

  /**
   * Read and validate one CBOR message with `decode` (a decoder from
   * `wire/schema.ts`). `null` at a clean end of stream.
   */
  async readMessage<T>(decode: (bytes: Uint8Array) => T, maxSize = DEFAULT_MAX_FRAME): Promise<T | null> {
    const frame = await this.readFrame(maxSize);
    return frame === null ? null : decode(frame);
  }

  /** Encode `value` as CBOR and write it as one frame. */
  writeMessage(value: unknown, maxSize = DEFAULT_MAX_FRAME): Promise<void> {
    return this.writeFrame(encodeCbor(value), maxSize);
  }

  /** Read one untyped CBOR value (prefer `readMessage` with a decoder). */
  async readValue(maxSize = DEFAULT_MAX_FRAME): Promise<unknown> {
    const frame = await this.readFrame(maxSize);
    return frame === null ? null : decodeCbor(frame, this.protocol);
  }
}

/**
 * An authenticated, encrypted, multiplexed connection to one peer.
 */
export class Connection {
  /** Process-unique number, for logs. */
  readonly serial: number = nextConnectionId++;
  /** When the connection was established (ms since epoch). */
  readonly openedAt: number = Date.now();
  #session: Session;
  #gate: InboundGate;
  #opts: Required<Pick<ConnectionOptions, "maxInboundStreams" | "negotiationTimeout">> & ConnectionOptions;
  #inbound = 0;
  #active = 0;
  #lastActivity = Date.now();
  #closing = false;

  /** Wrap an authenticated `session`; inbound streams go through `gate` (default-deny). */
  constructor(session: Session, gate: InboundGate, options: ConnectionOptions = {}) {
    this.#session = session;
    this.#gate = gate;
    this.#opts = { maxInboundStreams: 1024, negotiationTimeout: 10_000, ...options };
    session.closed.then(() => {
      this.#closing = true;
    });
    session.onStream((raw) => this.#accept(raw));
  }

  /** The proven id of the peer. */
  get remoteId(): NodeId {
    return this.#session.remoteId;
  }

  /** Our own id. */
  get localId(): NodeId {
    return this.#session.localId;
  }

  /** The link carrying this connection. */
  get transport(): TransportKind {
    return this.#session.kind;
  }

  /** `"relayed"` when the connection runs through a relay node, else `"direct"`. */
  get route(): Route {
    return this.#session.route;
  }

  /** True when the connection runs through a relay node. */
  get relayed(): boolean {
    return this.#session.route === "relayed";
  }

  /** Who dialed. */
  get direction(): Direction {
    return this.#session.direction;
  }

  /** The peer's socket address (`host:port`). */
  get remoteAddress(): string {
    return this.#session.remoteAddress;
  }

  /** Streams currently open in either direction. */
  get activeStreams(): number {
    return this.#active;
  }

  /** When a stream was last opened, closed, read or written (ms since epoch). */
  get lastActivity(): number {
    return this.#lastActivity;
  }

  /** Note activity now (streams call this on every read and write). */
  touch(): void {
    this.#lastActivity = Date.now();
  }

  /** True once closing or closed. */
  get isClosed(): boolean {
    return this.#closing;
  }

  /** Resolves (never rejects) when the connection has ended. */
  get closed(): Promise<CloseInfo> {
    return this.#session.closed;
  }

  /** Close the connection and all its streams. */
  close(reason = "closed"): void {
    this.#closing = true;
    this.#session.close(reason);
  }

  /**
   * Report that the peer broke the wire protocol on this connection: the
   * hook counts it and the connection is closed.
   */
  protocolViolation(error: Error): void {
    if (this.#closing) return;
    this.#opts.onProtocolViolation?.(this, error);
    this.close(`protocol violation: ${error.message}`);
  }

  #track(raw: ByteStream, inbound: boolean): void {
    this.#active++;
    if (inbound) this.#inbound++;
    this.#lastActivity = Date.now();
    raw.closed.then(() => {
      this.#active--;
      if (inbound) this.#inbound--;
      this.#lastActivity = Date.now();
    });
  }

  /**
   * Open a stream for `protocol`. Resolves once the peer accepted it;
   * rejects with `ProtocolRefusedError` (default-deny), `LimitError`,
   * `ConnectionClosedError`, `TimeoutError` or `AbortedError`.
   */
  async openStream(protocol: string, options: OpenStreamOptions = {}): Promise<Stream> {
    if (!isProtocolName(protocol)) {
      throw new TypeError(
        `invalid protocol name ${JSON.stringify(protocol)}: expected "/" and up to 127 printable ASCII characters`,
      );
    }
    if (this.#closing) throw new ConnectionClosedError(`connection to ${this.remoteId.short} is closed`);
    if (options.signal?.aborted) throw new AbortedError(`opening ${protocol} was cancelled`);
    let raw: ByteStream;
    try {
      raw = await this.#session.openStream();
    } catch (error) {
      if (this.#closing) throw new ConnectionClosedError(`connection to ${this.remoteId.short} is closed`);
      throw error;
    }
    this.#track(raw, false);
    const name = utf8(protocol);
    const reader = new BufferedReader(raw);
    try {
      await raw.write(concat(Uint8Array.of(name.length), name));
      const status = await withDeadline(
        reader.readExact(1, "stream negotiation"),
        options.timeout ?? this.#opts.negotiationTimeout,
        `opening ${protocol} with ${this.remoteId.short}`,
        { signal: options.signal },
      );
      if (status === null) {
        throw this.#closing
          ? new ConnectionClosedError(`connection to ${this.remoteId.short} closed while opening ${protocol}`)
          : new StreamResetError(`peer closed the stream while negotiating ${protocol}`);
      }
      if (status[0] === STATUS_REFUSED) throw new ProtocolRefusedError(protocol, this.remoteId.did);
      if (status[0] === STATUS_LIMIT) throw new LimitError(`peer ${this.remoteId.short} has too many open streams`);
      if (status[0] !== STATUS_OK) {
        const error = new WireError("E_WIRE_INVALID", "stream negotiation", `unknown status ${status[0]}`);
        this.protocolViolation(error);
        throw error;
      }
    } catch (error) {
      raw.reset("negotiation failed");
      if (error instanceof StreamResetError && this.#closing) {
        throw new ConnectionClosedError(`connection to ${this.remoteId.short} closed while opening ${protocol}`);
      }
      throw error;
    }
    return new Stream(protocol, this, raw, reader);
  }

  async #accept(raw: ByteStream): Promise<void> {
    this.#track(raw, true);
    if (this.#inbound > this.#opts.maxInboundStreams) {
      await this.#refuse(raw, STATUS_LIMIT);
      return;
    }
    const reader = new BufferedReader(raw);
    // Where the stream can split its chunks, negotiation takes only the header: the data after it stays
    // queued in the stream (and charged to the connection's receive budget) until the handler reads it.
    const take = isSplittable(raw)
      ? (n: number) => readExactly(raw, n)
      : (n: number) => reader.readExact(n, "stream negotiation");
    let protocol: string;
    try {
      protocol = await withDeadline(this.#readHeader(take), this.#opts.negotiationTimeout, "stream negotiation");
    } catch (error) {
      raw.reset("negotiation failed");
      if (error instanceof WireError) this.protocolViolation(error);
      return;
    }
    let handler: StreamHandler | null;
    try {
      handler = await this.#gate(protocol, this);
    } catch (error) {
      this.#opts.onHandlerError?.(this, protocol, error);
      handler = null;
    }
    if (!handler) {
      await this.#refuse(raw, STATUS_REFUSED);
      return;
    }
    const stream = new Stream(protocol, this, raw, reader);
    try {
      await raw.write(Uint8Array.of(STATUS_OK));
      await handler(stream);
    } catch (error) {
      raw.reset("handler failed");
      if (error instanceof WireError) {
        this.protocolViolation(error);
      } else if (!(error instanceof StreamResetError) && !this.#closing) {
        this.#opts.onHandlerError?.(this, protocol, error);
      }
    }
  }

  async #readHeader(take: (n: number) => Promise<Uint8Array | null>): Promise<string> {
    const len = await take(1);
    if (len === null) throw new StreamResetError("stream ended before negotiation");
    if (len[0] === 0 || len[0] > 128) {
      throw new WireError("E_WIRE_INVALID", "stream negotiation", `protocol name length ${len[0]} out of range 1-128`);
    }
    const body = await take(len[0]);
    let name: string | undefined;
    try {
      name = body === null ? undefined : fromUtf8(body);
    } catch {
      name = undefined;
    }
    if (!isProtocolName(name)) {
      throw new WireError("E_WIRE_INVALID", "stream negotiation", "bad protocol name");
    }
    return name;
  }

  async #refuse(raw: ByteStream, status: number): Promise<void> {
    try {
      await raw.write(Uint8Array.of(status));
      await raw.closeWrite();
      // Let the opener read the status; then make sure the stream goes away.
      await withDeadline(raw.closed, 5_000, "refused stream").catch(() => {});
    } catch {
      // the stream or connection is gone already
    } finally {
      raw.reset("refused");
    }
  }
}

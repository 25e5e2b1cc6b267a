/**
 * `Muxer`: many flow-controlled byte streams over one reliable, ordered byte
 * duplex (yamux-like; the TCP link runs it over a Noise channel).
 *
 * The initiator opens odd stream ids, the responder even ones. A stream
 * opens with a SYN frame and the first frame back carries ACK; FIN
 * half-closes, RST aborts. Each direction of each stream has a credit
 * window (see `MuxStream`). Protocol violations by the peer close the whole
 * muxer with a `WireError` and a GO_AWAY (protocol error).
 *
 * Each side opens streams with strictly increasing ids, so a SYN for an id
 * at or below the last one seen is a duplicate. Frames for an id that was
 * used before but has ended (or was refused) are ignored: they can be in
 * flight when an RST overtakes them. Frames for an id never opened are a
 * violation.
 *
 * @module
 */
import { deferred, TimeoutError } from "../../util/async.ts";
import { WireError } from "../../wire/errors.ts";
import type { Duplex } from "../../wire/frame.ts";
import { ConnectionClosedError, LimitError } from "../errors.ts";
import type { CloseInfo } from "../session.ts";
import { StreamResetError } from "../stream.ts";
import type { ByteStream } from "../stream.ts";
import { encodeHeader, Flag, FrameParser, FrameType, frameTypeName, GoAwayCode, MUX_FRAME } from "./frame.ts";
import type { Frame } from "./frame.ts";
import { BASE_WINDOW, MuxStream } from "./mux-stream.ts";
import type { StreamHost } from "./mux-stream.ts";
import { FrameWriter } from "./writer.ts";

/**
 * A reliable, ordered byte duplex (e.g. a Noise channel over TCP). The
 * muxer keeps references to chunks returned by `read()` (payloads are
 * zero-copy views), so a source must not reuse its buffers; chunks passed
 * to `write()` are never modified afterwards.
 */
export type { Duplex };

/** Tunables of a `Muxer`. */
export interface MuxerOptions {
  /** True on the side that dialed: it opens odd stream ids. */
  initiator: boolean;
  /** Concurrent inbound streams; more are answered with RST. Default 1024. */
  maxStreams?: number;
  /** Initial receive window per stream, ≥ 256 KiB. Default 256 KiB. */
  initialWindow?: number;
  /** Ceiling of the auto-tuned receive window per stream. Default 16 MiB. */
  maxWindow?: number;
  /** Keep-alive ping interval in ms; 0 (default) disables it. */
  keepAliveMs?: number;
  /** Receiver of streams the peer opens (may also be set with `onStream`). */
  onStream?: (stream: ByteStream) => void;
}

/** Default `maxStreams`. */
export const DEFAULT_MAX_STREAMS = 1024;
/** Default `initialWindow`: 256 KiB. */
export const DEFAULT_INITIAL_WINDOW: number = BASE_WINDOW;
/** Default `maxWindow`: 16 MiB. */
export const DEFAULT_MAX_WINDOW = 16 * 1024 * 1024;
/** How long `close()` waits for its GO_AWAY to be written before closing the duplex anyway. */
const GO_AWAY_GRACE_MS = 1_000;
/**
 * Queued control frames beyond which we stop answering the peer's pings and
 * SYNs: a peer that keeps sending them without reading our answers is
 * closed rather than allowed to grow our queue without bound.
 */
const MAX_CONTROL_BACKLOG = 64 * 1024;
const U32_MAX = 0xffff_ffff;

const GO_AWAY_NAMES = ["normal", "protocol error", "internal error"];

interface PendingPing {
  sentAt: number;
  done: ReturnType<typeof deferred<number>> | null;
}

/**
 * Multiplexes `ByteStream`s over one `Duplex`.
 *
 * @example
 * ```ts
 * import { Muxer } from "./muxer.ts";
 * import type { Duplex } from "./muxer.ts";
 * declare const duplex: Duplex;
 * const muxer = new Muxer(duplex, { initiator: true, keepAliveMs: 15_000 });
 * muxer.onStream(async (stream) => {
 *   for (let chunk = await stream.read(); chunk !== null; chunk = await stream.read()) {
 *     await stream.write(chunk); // echo
 *   }
 *   await stream.closeWrite();
 * });
 * const stream = await muxer.openStream();
 * await stream.write(new Uint8Array([1, 2, 3]));
 * const info = await muxer.closed; // { reason, local, error? }
 * ```
 */
export class Muxer {
  #duplex: Duplex;
  #writer: FrameWriter;
  #parser = new FrameParser();
  #initiator: boolean;
  #maxStreams: number;
  #initialWindow: number;
  #keepAliveMs: number;
  #streams = new Map<number, MuxStream>();
  #inbound = 0;
  #nextId: number;
  #lastInboundId = 0;
  #handler: ((stream: ByteStream) => void) | null = null;
  #held: MuxStream[] = [];
  #rtt = 0;
  #pings = new Map<number, PendingPing>();
  #nextPing = 0;
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  #keepAlivePing: number | null = null;
  #keepAliveMissed = 0;
  #remoteGoAway: number | null = null;
  #closeInfo: CloseInfo | null = null;
  #closed = deferred<CloseInfo>();
  #duplexClosed = false;
  #host: StreamHost;

  /**
   * Start multiplexing over `duplex` (the muxer owns it from now on and
   * closes it when done). Throws `RangeError` for invalid options.
   */
  constructor(duplex: Duplex, options: MuxerOptions) {
    const maxStreams = options.maxStreams ?? DEFAULT_MAX_STREAMS;
    const initialWindow = options.initialWindow ?? DEFAULT_INITIAL_WINDOW;
    const maxWindow = options.maxWindow ??
      Math.max(DEFAULT_MAX_WINDOW, initialWindow);
    const keepAliveMs = options.keepAliveMs ?? 0;
    if (!Number.isInteger(maxStreams) || maxStreams < 0) {
      throw new RangeError("maxStreams must be an integer ≥ 0");
    }
    if (
      !Number.isInteger(initialWindow) || initialWindow < BASE_WINDOW ||
      initialWindow > U32_MAX
    ) {
      throw new RangeError(
        `initialWindow must be an integer between ${BASE_WINDOW} and 2^32 - 1`,
      );
    }
    if (
      !Number.isInteger(maxWindow) || maxWindow < initialWindow ||
      maxWindow > U32_MAX
    ) {
      throw new RangeError(
        "maxWindow must be an integer between initialWindow and 2^32 - 1",
      );
    }
    if (!(keepAliveMs >= 0) || !Number.isFinite(keepAliveMs)) {
      throw new RangeError("keepAliveMs must be ≥ 0");
    }
    this.#duplex = duplex;
    this.#initiator = options.initiator;
    this.#nextId = options.initiator ? 1 : 2;
    this.#maxStreams = maxStreams;
    this.#initialWindow = initialWindow;
    this.#keepAliveMs = keepAliveMs;
    this.#writer = new FrameWriter(duplex, {
      onError: (error) =>
        this.#shutdown({
          reason: `write failed: ${error.message}`,
          local: true,
          error,
        }, null),
    });
    this.#host = {
      writer: this.#writer,
      rtt: () => this.#rtt,
      maxWindow,
      release: (stream) => this.#release(stream),
    };
    if (options.onStream) this.#handler = options.onStream;
    if (keepAliveMs > 0) {
      this.#keepAlive = setInterval(() => this.#keepAliveTick(), keepAliveMs);
    }
    this.#sendPing(null); // seeds the RTT estimate used by window auto-tuning
    void this.#readLoop();
  }

  /** Streams currently open (in the stream table) in either direction. */
  get streamCount(): number {
    return this.#streams.size;
  }

  /** Smoothed round-trip time in ms from pings and stream opens; 0 until measured. */
  get rtt(): number {
    return this.#rtt;
  }

  /** True once closing or closed. */
  get isClosed(): boolean {
    return this.#closeInfo !== null;
  }

  /** Resolves (never rejects) when the muxer has ended. */
  get closed(): Promise<CloseInfo> {
    return this.#closed.promise;
  }

  /**
   * Open a new outgoing stream. Resolves at once (the SYN is queued; data
   * may follow immediately). Rejects with `ConnectionClosedError` once the
   * muxer is closed or the peer sent GO_AWAY, `LimitError` when stream ids
   * are exhausted. If the peer refuses the stream, reads and writes reject
   * with `StreamResetError`.
   */
  openStream(): Promise<ByteStream> {
    if (this.#closeInfo) {
      return Promise.reject(
        new ConnectionClosedError(`muxer is closed: ${this.#closeInfo.reason}`),
      );
    }
    if (this.#remoteGoAway !== null) {
      return Promise.reject(
        new ConnectionClosedError(
          "peer is going away (GO_AWAY); no new streams",
        ),
      );
    }
    if (this.#nextId > U32_MAX) {
      return Promise.reject(new LimitError("stream ids exhausted"));
    }
    const id = this.#nextId;
    this.#nextId += 2;
    const stream = new MuxStream(this.#host, id, false, this.#initialWindow);
    this.#streams.set(id, stream);
    stream.announce();
    return Promise.resolve(stream);
  }

  /**
   * Set the receiver of streams the peer opens. Streams that arrived before
   * are delivered now, in order. A handler that throws resets its stream.
   */
  onStream(handler: (stream: ByteStream) => void): void {
    this.#handler = handler;
    const held = this.#held;
    this.#held = [];
    for (const stream of held) this.#deliver(stream);
  }

  /**
   * Measure the round-trip time to the peer, in ms. Rejects with
   * `ConnectionClosedError` if the muxer closes first.
   */
  ping(): Promise<number> {
    if (this.#closeInfo) {
      return Promise.reject(
        new ConnectionClosedError(`muxer is closed: ${this.#closeInfo.reason}`),
      );
    }
    const done = deferred<number>();
    this.#sendPing(done);
    return done.promise;
  }

  /**
   * Close the muxer: reset every stream, send GO_AWAY (best-effort; code
   * "protocol error" for a `WireError`, "internal error" for other errors),
   * then close the duplex. Idempotent; the first call's reason wins.
   */
  close(reason = "closed", error?: Error): void {
    const code = error === undefined
      ? GoAwayCode.Normal
      : error instanceof WireError
      ? GoAwayCode.ProtocolError
      : GoAwayCode.InternalError;
    this.#shutdown({ reason, local: true, ...(error ? { error } : {}) }, code);
  }

  // ---- reading ---------------------------------------------------------------

  async #readLoop(): Promise<void> {
    while (!this.#closeInfo) {
      let chunk: Uint8Array | null;
      try {
        chunk = await this.#duplex.read();
      } catch (e) {
        // e.g. the secure channel detected tampering: its error, whatever its type
        const error = e instanceof Error ? e : new Error(String(e));
        const reason = `read failed: ${error.message}`;
        this.#shutdown(
          { reason, local: true, error },
          GoAwayCode.InternalError,
        );
        return;
      }
      if (this.#closeInfo) return;
      if (chunk === null) return this.#remoteClosed();
      try {
        this.#parser.push(chunk);
        for (let f = this.#parser.next(); f !== null; f = this.#parser.next()) {
          this.#handleFrame(f);
          if (this.#closeInfo) return;
        }
      } catch (e) {
        if (this.#closeInfo) return;
        if (e instanceof WireError) {
          const reason = `protocol violation: ${e.message}`;
          this.#shutdown(
            { reason, local: true, error: e },
            GoAwayCode.ProtocolError,
          );
        } else {
          const error = e instanceof Error ? e : new Error(String(e));
          const reason = `internal error: ${error.message}`;
          this.#shutdown(
            { reason, local: true, error },
            GoAwayCode.InternalError,
          );
        }
        return;
      }
    }
  }

  #remoteClosed(): void {
    let error: Error | undefined;
    if (this.#parser.buffered > 0) {
      error = new WireError(
        "E_WIRE_TRUNCATED",
        MUX_FRAME,
        "connection ended inside a frame",
      );
    } else if (
      this.#remoteGoAway !== null && this.#remoteGoAway !== GoAwayCode.Normal
    ) {
      error = new ConnectionClosedError(
        `peer went away: ${GO_AWAY_NAMES[this.#remoteGoAway]}`,
      );
    }
    this.#shutdown({
      reason: "remote closed",
      local: false,
      ...(error ? { error } : {}),
    }, null);
  }

  #handleFrame(frame: Frame): void {
    switch (frame.type) {
      case FrameType.Ping:
        if (frame.flags & Flag.SYN) {
          this.#answer(FrameType.Ping, Flag.ACK, 0, frame.length);
        } else this.#pong(frame.length);
        return;
      case FrameType.GoAway:
        this.#remoteGoAway = frame.length;
        return;
    }
    const id = frame.streamId;
    let stream = this.#streams.get(id);
    let fresh = false;
    if (frame.flags & Flag.SYN) {
      const accepted = this.#acceptSyn(id);
      if (accepted === null) return;
      stream = accepted;
      fresh = true;
    } else if (stream === undefined) {
      if (this.#isRetired(id)) return; // a late frame for a stream that already ended
      throw new WireError(
        "E_WIRE_INVALID",
        MUX_FRAME,
        `${frameTypeName(frame.type)} for unknown stream ${id} without SYN`,
      );
    }
    if (frame.flags & Flag.ACK && stream.acknowledge()) {
      this.#sampleRtt(performance.now() - stream.createdAt);
    }
    if (frame.type === FrameType.Data) {
      stream.receiveData(frame.payload, frame.flags);
    } else stream.receiveWindowUpdate(frame.length, frame.flags);
    if (fresh) this.#deliver(stream);
  }

  /** A SYN arrived: validate it and create the stream, or refuse it (`null`). */
  #acceptSyn(id: number): MuxStream | null {
    if ((id & 1) === (this.#initiator ? 1 : 0)) {
      throw new WireError(
        "E_WIRE_INVALID",
        MUX_FRAME,
        `peer opened stream ${id} with our id parity`,
      );
    }
    if (id <= this.#lastInboundId) {
      throw new WireError(
        "E_WIRE_INVALID",
        MUX_FRAME,
        `duplicate SYN for stream ${id}`,
      );
    }
    this.#lastInboundId = id;
    if (this.#inbound >= this.#maxStreams) {
      this.#answer(FrameType.WindowUpdate, Flag.RST, id, 0);
      return null;
    }
    const stream = new MuxStream(this.#host, id, true, this.#initialWindow);
    this.#streams.set(id, stream);
    this.#inbound++;
    stream.announce();
    return stream;
  }

  /** Queue a frame the peer asked for (PING ACK, refusing RST), unless it floods us. */
  #answer(type: FrameType, flags: number, id: number, length: number): void {
    if (this.#writer.controlBacklog >= MAX_CONTROL_BACKLOG) {
      const error = new LimitError(
        `more than ${MAX_CONTROL_BACKLOG} control frames queued: the peer is not reading`,
      );
      this.#shutdown(
        { reason: "peer is not reading", local: true, error },
        GoAwayCode.InternalError,
      );
      return;
    }
    this.#writer.control(type, flags, id, length);
  }

  /** Was `id` used by a stream that has since ended (or was refused)? */
  #isRetired(id: number): boolean {
    const ours = (id & 1) === (this.#initiator ? 1 : 0);
    return ours ? id < this.#nextId : id <= this.#lastInboundId;
  }

  #deliver(stream: MuxStream): void {
    if (this.#closeInfo) return;
    if (!this.#handler) {
      this.#held.push(stream);
      return;
    }
    try {
      this.#handler(stream);
    } catch {
      stream.reset("stream handler failed");
    }
  }

  #release(stream: MuxStream): void {
    if (this.#streams.get(stream.id) !== stream) return;
    this.#streams.delete(stream.id);
    if (stream.inbound) this.#inbound--;
  }

  // ---- pings -------------------------------------------------------------------

  #sendPing(done: PendingPing["done"]): number {
    const value = this.#nextPing;
    this.#nextPing = (this.#nextPing + 1) >>> 0;
    this.#pings.set(value, { sentAt: performance.now(), done });
    this.#writer.control(FrameType.Ping, Flag.SYN, 0, value);
    return value;
  }

  #pong(value: number): void {
    const ping = this.#pings.get(value);
    if (!ping) return; // unknown or late answer: harmless
    this.#pings.delete(value);
    const rtt = performance.now() - ping.sentAt;
    this.#sampleRtt(rtt);
    if (value === this.#keepAlivePing) {
      this.#keepAlivePing = null;
      this.#keepAliveMissed = 0;
    }
    ping.done?.resolve(rtt);
  }

  #sampleRtt(sample: number): void {
    this.#rtt = this.#rtt === 0 ? sample : this.#rtt * 0.875 + sample * 0.125;
  }

  #keepAliveTick(): void {
    if (this.#closeInfo) return;
    if (this.#keepAlivePing !== null) {
      this.#keepAliveMissed++;
      if (this.#keepAliveMissed >= 3) {
        const error = new TimeoutError(
          `keep-alive ping unanswered for ${3 * this.#keepAliveMs} ms`,
        );
        this.#shutdown(
          { reason: "keep-alive timeout", local: true, error },
          GoAwayCode.InternalError,
        );
      }
      return;
    }
    this.#keepAlivePing = this.#sendPing(null);
  }

  // ---- closing -----------------------------------------------------------------

  /** End everything once; `goAway` is the GO_AWAY code to send, or `null` for none. */
  #shutdown(info: CloseInfo, goAway: GoAwayCode | null): void {
    if (this.#closeInfo) return;
    this.#closeInfo = info;
    if (this.#keepAlive !== undefined) clearInterval(this.#keepAlive);
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    this.#inbound = 0;
    this.#held = [];
    for (const stream of streams) {
      stream.abort(new StreamResetError(`connection closed: ${info.reason}`));
    }
    for (const ping of this.#pings.values()) {
      ping.done?.reject(
        new ConnectionClosedError(`muxer closed: ${info.reason}`),
      );
    }
    this.#pings.clear();
    const final = goAway === null ? undefined : encodeHeader({
      type: FrameType.GoAway,
      flags: 0,
      streamId: 0,
      length: goAway,
    });
    const flushed = this.#writer.stop(final);
    if (final === undefined) {
      this.#closeDuplex();
    } else {
      const timer = setTimeout(() => this.#closeDuplex(), GO_AWAY_GRACE_MS);
      void flushed.then(() => {
        clearTimeout(timer);
        this.#closeDuplex();
      });
    }
    this.#closed.resolve(info);
  }

  #closeDuplex(): void {
    if (this.#duplexClosed) return;
    this.#duplexClosed = true;
    try {
      this.#duplex.close();
    } catch {
      // already closed
    }
  }
}

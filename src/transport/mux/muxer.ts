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
 * The parts live in their own modules: options and defaults (`options.ts`),
 * the stream table and id rules (`stream-table.ts`), PINGs and keep-alive
 * (`pinger.ts`) and GO_AWAY handling (`go-away.ts`); this one reads and
 * dispatches frames and ties the parts together.
 *
 * @module
 */
import { deferred } from "../../util/async.ts";
import { WireError } from "../../wire/errors.ts";
import type { Duplex } from "../../wire/frame.ts";
import { ConnectionClosedError, LimitError } from "../errors.ts";
import type { CloseInfo } from "../session.ts";
import { StreamResetError } from "../stream.ts";
import type { ByteStream } from "../stream.ts";
import { Flag, FrameParser, FrameType, frameTypeName, GoAwayCode, MUX_FRAME, ResetCode } from "./frame.ts";
import type { Frame } from "./frame.ts";
import { goAwayCodeFor, remoteGoAwayError, stopAndClose } from "./go-away.ts";
import { MuxStream } from "./mux-stream.ts";
import type { StreamHost } from "./mux-stream.ts";
import { type MuxerOptions, resolveMuxerOptions } from "./options.ts";
import { Pinger } from "./pinger.ts";
import type { ConnectionBudget } from "./receive-budget.ts";
import { StreamTable } from "./stream-table.ts";
import { FrameWriter } from "./writer.ts";

export { DEFAULT_INITIAL_WINDOW, DEFAULT_MAX_STREAMS, DEFAULT_MAX_WINDOW } from "./options.ts";
export type { MuxerOptions } from "./options.ts";

/**
 * A reliable, ordered byte duplex (e.g. a Noise channel over TCP). The
 * muxer keeps references to chunks returned by `read()` (payloads are
 * zero-copy views), so a source must not reuse its buffers; chunks passed
 * to `write()` are never modified afterwards.
 */
export type { Duplex };

/**
 * Queued control frames beyond which we stop answering the peer's pings and
 * SYNs: a peer that keeps sending them without reading our answers is
 * closed rather than allowed to grow our queue without bound.
 */
const MAX_CONTROL_BACKLOG = 64 * 1024;

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
  #initialWindow: number;
  #streams: StreamTable;
  #handler: ((stream: ByteStream) => void) | null = null;
  #held: MuxStream[] = [];
  #pinger: Pinger;
  #remoteGoAway: number | null = null;
  #closeInfo: CloseInfo | null = null;
  #closed = deferred<CloseInfo>();
  #host: StreamHost;
  #budget: ConnectionBudget;
  #memoryRefusals = 0;

  /**
   * Start multiplexing over `duplex` (the muxer owns it from now on and
   * closes it when done). Throws `RangeError` for invalid options.
   */
  constructor(duplex: Duplex, options: MuxerOptions) {
    const { initiator, maxStreams, initialWindow, maxWindow, keepAliveMs, budget } = resolveMuxerOptions(options);
    this.#duplex = duplex;
    this.#budget = budget;
    this.#streams = new StreamTable(initiator, maxStreams);
    this.#initialWindow = initialWindow;
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
      rtt: () => this.#pinger.rtt,
      maxWindow,
      budget,
      release: (stream) => this.#streams.release(stream),
      overBudget: () => this.#memoryRefusals++,
    };
    if (options.onStream) this.#handler = options.onStream;
    this.#pinger = new Pinger(this.#writer, keepAliveMs, (error) =>
      this.#shutdown(
        { reason: "keep-alive timeout", local: true, error },
        GoAwayCode.InternalError,
      ));
    void this.#readLoop();
  }

  /** Streams currently open (in the stream table) in either direction. */
  get streamCount(): number {
    return this.#streams.size;
  }

  /** Smoothed round-trip time in ms from pings and stream opens; 0 until measured. */
  get rtt(): number {
    return this.#pinger.rtt;
  }

  /** Bytes received and not yet read by the application, charged to this connection's budget. */
  get bufferedBytes(): number {
    return this.#budget.used;
  }

  /** Inbound streams refused, and streams reset, because a receive memory budget was exhausted. */
  get memoryRefusals(): number {
    return this.#memoryRefusals;
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
    const id = this.#streams.nextOutboundId();
    if (id === null) {
      return Promise.reject(new LimitError("stream ids exhausted"));
    }
    const stream = new MuxStream(this.#host, id, false, this.#initialWindow);
    this.#streams.add(stream);
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
    return this.#pinger.ping();
  }

  /**
   * Close the muxer: reset every stream, send GO_AWAY (best-effort; code
   * "protocol error" for a `WireError`, "internal error" for other errors),
   * then close the duplex. Idempotent; the first call's reason wins.
   */
  close(reason = "closed", error?: Error): void {
    const code = goAwayCodeFor(error);
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
    const error = this.#parser.buffered > 0
      ? new WireError(
        "E_WIRE_TRUNCATED",
        MUX_FRAME,
        "connection ended inside a frame",
      )
      : remoteGoAwayError(this.#remoteGoAway);
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
        } else this.#pinger.pong(frame.length);
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
      if (this.#streams.isRetired(id)) return; // a late frame for a stream that already ended
      throw new WireError(
        "E_WIRE_INVALID",
        MUX_FRAME,
        `${frameTypeName(frame.type)} for unknown stream ${id} without SYN`,
      );
    }
    if (frame.flags & Flag.ACK && stream.acknowledge()) {
      this.#pinger.sampleRtt(performance.now() - stream.createdAt);
    }
    if (frame.type === FrameType.Data) {
      stream.receiveData(frame.payload, frame.flags);
    } else stream.receiveWindowUpdate(frame.length, frame.flags);
    if (fresh) this.#deliver(stream);
  }

  /** A SYN arrived: validate it and create the stream, or refuse it (`null`). */
  #acceptSyn(id: number): MuxStream | null {
    if (!this.#streams.admitInbound(id)) {
      this.#answer(FrameType.WindowUpdate, Flag.RST, id, ResetCode.StreamLimit);
      return null;
    }
    if (this.#budget.underPressure) {
      this.#memoryRefusals++;
      this.#answer(FrameType.WindowUpdate, Flag.RST, id, ResetCode.Memory);
      return null;
    }
    const stream = new MuxStream(this.#host, id, true, this.#initialWindow);
    this.#streams.add(stream);
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

  // ---- closing -----------------------------------------------------------------

  /** End everything once; `goAway` is the GO_AWAY code to send, or `null` for none. */
  #shutdown(info: CloseInfo, goAway: GoAwayCode | null): void {
    if (this.#closeInfo) return;
    this.#closeInfo = info;
    const streams = this.#streams.clear();
    this.#held = [];
    for (const stream of streams) {
      stream.abort(new StreamResetError(`connection closed: ${info.reason}`));
    }
    this.#pinger.stop(info.reason);
    this.#budget.close();
    stopAndClose(this.#writer, this.#duplex, goAway);
    this.#closed.resolve(info);
  }
}

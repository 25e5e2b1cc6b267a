/**
 * One multiplexed stream: a `ByteStream` with per-stream flow control
 * (credit-based windows with auto-tuning), half-close and reset.
 *
 * @module
 */
import { deferred } from "../../util/async.ts";
import { WireError } from "../../wire/errors.ts";
import { ChunkQueue, StreamClosedError, StreamResetError } from "../stream.ts";
import type { ByteStream } from "../stream.ts";
import { Flag, FrameType, MUX_FRAME, ResetCode, resetReason, SEND_SEGMENT } from "./frame.ts";
import type { ConnectionBudget } from "./receive-budget.ts";
import type { FrameOwner, FrameWriter } from "./writer.ts";

/**
 * The window every stream starts with in both directions, by protocol:
 * 256 KiB. A receiver that wants a larger initial window announces the
 * difference in its SYN or ACK frame.
 */
export const BASE_WINDOW = 256 * 1024;
/** Largest window a peer may grant (windows are u32 on the wire). */
const MAX_SEND_WINDOW = 0xffff_ffff;

const RESOLVED: Promise<void> = Promise.resolve();
const EMPTY = new Uint8Array(0);
const noop = () => {};

/** What a stream needs from the muxer that owns it. */
export interface StreamHost {
  /** The shared outgoing frame queue. */
  readonly writer: FrameWriter;
  /** Smoothed round-trip time in ms, 0 while unknown (drives window auto-tuning). */
  rtt(): number;
  /** Ceiling of the auto-tuned receive window. */
  readonly maxWindow: number;
  /** The stream is finished; remove it from the stream table. */
  release(stream: MuxStream): void;
  /** The connection's receive memory budget: unread bytes are charged to it. */
  readonly budget: ConnectionBudget;
  /** A stream was reset because its data did not fit the budget. */
  overBudget(): void;
}

/**
 * A multiplexed stream (see `ByteStream` for the contract). Built by
 * `Muxer`; applications only use the `ByteStream` methods.
 *
 * Flow control: we may have at most `sendWindow` unacknowledged bytes in
 * flight; `write()` waits for credit. As the application reads, we grant the
 * peer fresh credit (WINDOW_UPDATE) once half our window was consumed, and
 * double the window (up to the host's `maxWindow`) when those updates are
 * needed faster than about two round trips, and the connection's budget
 * allows it (`ConnectionBudget.allowsWindow`). Received bytes are charged
 * to the budget until the application reads them; data that does not fit
 * resets the stream (RST, `ResetCode.Memory`).
 *
 * @example
 * ```ts
 * import type { Muxer } from "./muxer.ts";
 * declare const muxer: Muxer;
 * const stream = await muxer.openStream();
 * await stream.write(new TextEncoder().encode("hello"));
 * await stream.closeWrite();
 * const reply = await stream.read();
 * ```
 */
export class MuxStream implements ByteStream, FrameOwner {
  /** Stream id (odd if the initiator opened it, even otherwise). */
  readonly id: number;
  /** True if the peer opened this stream. */
  readonly inbound: boolean;
  /** When the stream was created (`performance.now()`). */
  readonly createdAt: number = performance.now();
  #host: StreamHost;
  /** SYN or ACK, put on our first frame; 0 afterwards. */
  #openFlag: number;
  #queue: ChunkQueue;
  #closed = deferred<void>();
  // sending
  #sendWindow = BASE_WINDOW;
  #writeClosed = false;
  #finSent = false;
  #pendingWrites = 0;
  #writeTail: Promise<void> = RESOLVED;
  #wakeup: ReturnType<typeof deferred<void>> | null = null;
  // receiving
  #recvWindow: number;
  #recvAvail: number;
  #consumed = 0;
  #epoch: number = this.createdAt;
  #remoteFin = false;
  #acked = false;
  // terminal state
  #error: StreamResetError | null = null;
  #done = false;

  /** @internal Built by `Muxer`. */
  constructor(
    host: StreamHost,
    id: number,
    inbound: boolean,
    initialWindow: number,
  ) {
    this.#host = host;
    this.id = id;
    this.inbound = inbound;
    this.#openFlag = inbound ? Flag.ACK : Flag.SYN;
    this.#recvWindow = initialWindow;
    this.#recvAvail = initialWindow;
    this.#queue = new ChunkQueue((n) => this.#onConsumed(n));
  }

  /** True once the stream was reset or aborted: its queued frames are dropped. */
  get dropped(): boolean {
    return this.#error !== null;
  }

  /** Bytes we may still send before the peer grants more credit. */
  get sendWindow(): number {
    return this.#sendWindow;
  }

  /** Our current receive window (grows by auto-tuning). */
  get receiveWindow(): number {
    return this.#recvWindow;
  }

  /** Resolves (never rejects) once both directions finished or the stream was reset. */
  get closed(): Promise<void> {
    return this.#closed.promise;
  }

  /** Next received chunk; `null` after the peer's FIN; rejects with `StreamResetError` after a reset. */
  read(): Promise<Uint8Array | null> {
    return this.#queue.read();
  }

  /**
   * Like `read()`, but at most `max` bytes: the rest of a chunk stays
   * queued (and charged to the budget) for the next read.
   */
  readUpTo(max: number): Promise<Uint8Array | null> {
    return this.#queue.readUpTo(max);
  }

  /**
   * Send `chunk` (split into DATA frames of at most 64 KiB). Resolves once
   * all of it fit the send window and was queued for the duplex; rejects
   * with `StreamClosedError` after `closeWrite()`, `StreamResetError` after a
   * reset. Writes go out in call order; `chunk` must not be modified after.
   */
  write(chunk: Uint8Array): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    if (this.#writeClosed) return Promise.reject(new StreamClosedError());
    if (chunk.length === 0) {
      return this.#pendingWrites === 0 ? RESOLVED : this.#enqueueWrite(() => RESOLVED);
    }
    if (this.#pendingWrites === 0) {
      const sent = this.#pushAvailable(chunk, 0);
      if (sent === chunk.length) return RESOLVED;
      return this.#enqueueWrite(() => this.#writeRest(chunk, sent));
    }
    return this.#enqueueWrite(() => this.#writeRest(chunk, 0));
  }

  /** Half-close (FIN) after all earlier writes; idempotent. */
  closeWrite(): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    if (this.#writeClosed) {
      return this.#pendingWrites === 0 ? RESOLVED : this.#writeTail;
    }
    this.#writeClosed = true;
    if (this.#pendingWrites === 0) {
      this.#sendFin();
      return RESOLVED;
    }
    return this.#enqueueWrite(() => {
      if (this.#error) throw this.#error;
      this.#sendFin();
      return RESOLVED;
    });
  }

  /** Abort both directions (RST); pending and future reads and writes reject. No-op once closed. */
  reset(reason?: string): void {
    this.#resetWith(ResetCode.Normal, reason ?? "stream was reset");
  }

  #resetWith(code: ResetCode, reason: string): void {
    if (this.#done) return;
    const error = new StreamResetError(reason);
    this.#error = error;
    this.#dropQueued(error);
    this.#host.writer.control(
      FrameType.WindowUpdate,
      Flag.RST | this.#takeOpenFlag(),
      this.id,
      code,
    );
    this.#terminate();
  }

  /** Fail reads, giving the budget back what was queued. */
  #dropQueued(error: Error): void {
    this.#host.budget.release(this.#queue.bytes);
    this.#queue.fail(error);
  }

  // ---- called by the muxer -------------------------------------------------

  /**
   * @internal Send our first frame: SYN or ACK with any credit beyond
   * `BASE_WINDOW`. Never dropped, so a later RST always follows a SYN.
   */
  announce(): void {
    this.#host.writer.control(
      FrameType.WindowUpdate,
      this.#takeOpenFlag(),
      this.id,
      this.#recvWindow - BASE_WINDOW,
    );
  }

  /** @internal The peer ACKed a stream we opened; returns true the first time. */
  acknowledge(): boolean {
    if (this.inbound || this.#acked) return false;
    this.#acked = true;
    return true;
  }

  /** @internal A DATA frame arrived. Throws `WireError` on a flow-control violation. */
  receiveData(payload: Uint8Array, flags: number): void {
    if (flags & Flag.RST) return this.#remoteReset();
    const n = payload.length;
    if (n > 0) {
      if (this.#remoteFin) {
        throw new WireError(
          "E_WIRE_INVALID",
          MUX_FRAME,
          `stream ${this.id} sent DATA after FIN`,
        );
      }
      if (n > this.#recvAvail) {
        throw new WireError(
          "E_WIRE_INVALID",
          MUX_FRAME,
          `stream ${this.id} sent ${n} bytes with only ${this.#recvAvail} bytes of window left`,
        );
      }
      this.#recvAvail -= n;
      if (!this.#error) {
        if (!this.#host.budget.tryCharge(n)) {
          this.#host.overBudget();
          this.#resetWith(ResetCode.Memory, "receive memory budget exhausted");
          return;
        }
        // A small view would pin its whole (decrypted) buffer: keep a copy instead.
        this.#queue.push(n * 4 < payload.buffer.byteLength ? payload.slice() : payload);
      }
    }
    if (flags & Flag.FIN) this.#remoteFinish();
  }

  /** @internal A WINDOW_UPDATE frame arrived. Throws `WireError` on window overflow. */
  receiveWindowUpdate(delta: number, flags: number): void {
    if (flags & Flag.RST) return this.#remoteReset(delta);
    if (delta > 0) {
      if (this.#sendWindow + delta > MAX_SEND_WINDOW) {
        throw new WireError(
          "E_WIRE_INVALID",
          MUX_FRAME,
          `stream ${this.id} window grew beyond 2^32 - 1 bytes`,
        );
      }
      this.#sendWindow += delta;
      this.#wake();
    }
    if (flags & Flag.FIN) this.#remoteFinish();
  }

  /**
   * @internal The muxer closed: fail pending and future writes, and reads
   * unless the peer already finished sending (buffered data stays readable).
   */
  abort(error: StreamResetError): void {
    if (this.#done) return;
    this.#error = error;
    if (!this.#queue.finished) this.#dropQueued(error);
    this.#terminate();
  }

  // ---- internals -------------------------------------------------------------

  #takeOpenFlag(): number {
    const flag = this.#openFlag;
    this.#openFlag = 0;
    return flag;
  }

  /** Run `task` after every earlier write, so chunks go out in call order. */
  #enqueueWrite(task: () => Promise<void>): Promise<void> {
    this.#pendingWrites++;
    const result = this.#writeTail.then(task);
    this.#writeTail = result.then(noop, noop);
    return result.finally(() => {
      this.#pendingWrites--;
    });
  }

  /** Queue as much of `chunk` from `offset` as window and queue bound allow; returns the new offset. */
  #pushAvailable(chunk: Uint8Array, offset: number): number {
    const writer = this.#host.writer;
    while (offset < chunk.length && this.#sendWindow > 0 && writer.hasRoom) {
      const n = Math.min(
        chunk.length - offset,
        this.#sendWindow,
        SEND_SEGMENT,
      );
      writer.data(
        this,
        this.#takeOpenFlag(),
        this.id,
        chunk.subarray(offset, offset + n),
      );
      this.#sendWindow -= n;
      offset += n;
    }
    return offset;
  }

  async #writeRest(chunk: Uint8Array, offset: number): Promise<void> {
    for (;;) {
      if (this.#error) throw this.#error;
      offset = this.#pushAvailable(chunk, offset);
      if (offset >= chunk.length) return;
      const woken = deferred<void>();
      this.#wakeup = woken;
      if (this.#sendWindow > 0) {
        this.#host.writer.waitForRoom(() => this.#wake());
      }
      await woken.promise;
    }
  }

  #wake(): void {
    const waiter = this.#wakeup;
    if (waiter) {
      this.#wakeup = null;
      waiter.resolve();
    }
  }

  #sendFin(): void {
    this.#host.writer.data(
      this,
      Flag.FIN | this.#takeOpenFlag(),
      this.id,
      EMPTY,
    );
    this.#finSent = true;
    this.#maybeFinish();
  }

  #onConsumed(n: number): void {
    this.#host.budget.release(n);
    if (this.#done || this.#remoteFin) return;
    this.#consumed += n;
    if (this.#consumed < this.#recvWindow / 2) return;
    const now = performance.now();
    const rtt = this.#host.rtt();
    let growth = 0;
    if (
      rtt > 0 && now - this.#epoch < 2 * rtt &&
      this.#recvWindow < this.#host.maxWindow
    ) {
      const grown = Math.min(this.#recvWindow * 2, this.#host.maxWindow);
      if (this.#host.budget.allowsWindow(grown)) {
        growth = grown - this.#recvWindow;
        this.#recvWindow = grown;
      }
    }
    const delta = this.#consumed + growth;
    this.#consumed = 0;
    this.#epoch = now;
    this.#recvAvail += delta;
    this.#host.writer.control(
      FrameType.WindowUpdate,
      this.#takeOpenFlag(),
      this.id,
      delta,
      this,
    );
  }

  #remoteFinish(): void {
    if (this.#remoteFin) return;
    this.#remoteFin = true;
    this.#queue.end();
    this.#maybeFinish();
  }

  #remoteReset(code: number = ResetCode.Normal): void {
    if (this.#done) return;
    const error = new StreamResetError(resetReason(code));
    this.#error = error;
    this.#dropQueued(error);
    this.#terminate();
  }

  #maybeFinish(): void {
    if (this.#finSent && this.#remoteFin && !this.#done) {
      this.#done = true;
      this.#closed.resolve();
      this.#host.release(this);
    }
  }

  #terminate(): void {
    this.#done = true;
    this.#wake();
    this.#closed.resolve();
    this.#host.release(this);
  }
}

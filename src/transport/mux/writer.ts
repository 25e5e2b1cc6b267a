/**
 * The muxer's outgoing side: two queues of frames (control frames first,
 * then DATA in FIFO order), coalesced into few large `sink.write` calls, with
 * a bound on queued DATA bytes so a slow socket pushes back on writers.
 *
 * @module
 */
import type { ByteSink } from "../../wire/frame.ts";
import { FrameType, HEADER_SIZE, writeHeaderInto } from "./frame.ts";
import type { FrameHeader } from "./frame.ts";

/** Default bound on queued DATA bytes before writers must wait: 1 MiB. */
export const DEFAULT_MAX_QUEUED_BYTES = 1024 * 1024;
/**
 * Default target size of one coalesced `sink.write`: one Noise transport
 * message (65,519 bytes), so frames never straddle two messages.
 */
export const DEFAULT_BATCH_BYTES = 65_519;

/** Something that owns queued frames; its frames are dropped once `dropped`. */
export interface FrameOwner {
  /** True once the owner's queued frames should no longer be sent. */
  readonly dropped: boolean;
}

interface OutFrame extends FrameHeader {
  payload: Uint8Array | null;
  owner: FrameOwner | null;
}

/** Tunables of a `FrameWriter`. */
export interface FrameWriterOptions {
  /** Bound on queued DATA bytes; `hasRoom` is false at or above it. */
  maxQueuedBytes?: number;
  /** Target size of one coalesced write. */
  batchBytes?: number;
  /** The sink failed; the writer has stopped. */
  onError: (error: Error) => void;
}

/**
 * Queues frames and writes them to `sink` in batches: everything queued
 * within one turn of the event loop (and everything queued while a write is
 * in flight) goes out in as few writes as possible, at most about
 * `batchBytes` each.
 *
 * @example
 * ```ts
 * import { FrameWriter } from "./writer.ts";
 * import { Flag, FrameType } from "./frame.ts";
 * declare const sink: { write(chunk: Uint8Array): Promise<void> };
 * const writer = new FrameWriter(sink, { onError: console.error });
 * writer.control(FrameType.Ping, Flag.SYN, 0, 42);
 * ```
 */
export class FrameWriter {
  #sink: ByteSink;
  #opts: Required<FrameWriterOptions>;
  #control: OutFrame[] = [];
  #controlHead = 0;
  #data: OutFrame[] = [];
  #dataHead = 0;
  #queuedBytes = 0;
  #roomWaiters: (() => void)[] = [];
  #scheduled = false;
  #writing = false;
  /** The `sink.write` in flight, if any. */
  #current: Promise<void> | null = null;
  #stopped = false;

  /** Write batches to `sink`; `options.onError` hears of the first failed write. */
  constructor(sink: ByteSink, options: FrameWriterOptions) {
    this.#sink = sink;
    this.#opts = {
      maxQueuedBytes: DEFAULT_MAX_QUEUED_BYTES,
      batchBytes: DEFAULT_BATCH_BYTES,
      ...options,
    };
  }

  /** DATA payload bytes queued and not yet handed to the sink. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Control frames queued and not yet handed to the sink. */
  get controlBacklog(): number {
    return this.#control.length - this.#controlHead;
  }

  /** True while more DATA may be queued without exceeding the bound. */
  get hasRoom(): boolean {
    return this.#queuedBytes < this.#opts.maxQueuedBytes;
  }

  /** Call `wake` once the DATA queue has drained to half its bound (or the writer stopped). */
  waitForRoom(wake: () => void): void {
    if (this.#stopped) return wake();
    this.#roomWaiters.push(wake);
  }

  /** Queue a control frame (no payload); it goes out before queued DATA. */
  control(
    type: FrameType,
    flags: number,
    streamId: number,
    length: number,
    owner: FrameOwner | null = null,
  ): void {
    if (this.#stopped) return;
    this.#control.push({ type, flags, streamId, length, payload: null, owner });
    this.#schedule();
  }

  /**
   * Queue a DATA frame. It is queued even past the bound: callers check
   * `hasRoom` first. An empty payload (e.g. a bare FIN) is never counted.
   */
  data(
    owner: FrameOwner,
    flags: number,
    streamId: number,
    payload: Uint8Array,
  ): void {
    if (this.#stopped) return;
    this.#data.push({
      type: FrameType.Data,
      flags,
      streamId,
      length: payload.length,
      payload,
      owner,
    });
    this.#queuedBytes += payload.length;
    this.#schedule();
  }

  /**
   * Stop: drop everything queued, release waiting writers, and write
   * `final` (e.g. a GO_AWAY) after any write in flight. Resolves (never
   * rejects) once `final` was written or failed.
   */
  stop(final?: Uint8Array): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    this.#stopped = true;
    this.#control = [];
    this.#controlHead = 0;
    this.#data = [];
    this.#dataHead = 0;
    this.#queuedBytes = 0;
    this.#wakeWriters();
    if (!final) return Promise.resolve();
    const prior = this.#current ?? Promise.resolve();
    return prior.then(() => this.#sink.write(final)).then(
      () => {},
      () => {},
    );
  }

  /** Start the pump in a microtask, so frames queued in this turn share writes. */
  #schedule(): void {
    if (this.#scheduled || this.#writing) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      if (!this.#writing) void this.#pump();
    });
  }

  async #pump(): Promise<void> {
    this.#writing = true;
    try {
      while (!this.#stopped) {
        const batch = this.#takeBatch();
        if (batch === null) break;
        if (this.#queuedBytes <= this.#opts.maxQueuedBytes >> 1) {
          this.#wakeWriters();
        }
        if (batch.length === 0) continue;
        const write = this.#current = this.#sink.write(batch);
        await write;
      }
    } catch (error) {
      if (!this.#stopped) {
        this.#stopped = true;
        this.#control = [];
        this.#data = [];
        this.#controlHead = this.#dataHead = this.#queuedBytes = 0;
        this.#wakeWriters();
        this.#opts.onError(
          error instanceof Error ? error : new Error(String(error)),
        );
      }
    } finally {
      this.#writing = false;
      this.#current = null;
    }
  }

  #wakeWriters(): void {
    if (this.#roomWaiters.length === 0) return;
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Dequeue up to ~`batchBytes` of frames and encode them; `null` if nothing is queued. */
  #takeBatch(): Uint8Array | null {
    const control = this.#control;
    const data = this.#data;
    if (
      this.#controlHead === control.length && this.#dataHead === data.length
    ) return null;
    const limit = this.#opts.batchBytes;
    const frames: OutFrame[] = [];
    let size = 0;
    while (this.#controlHead < control.length) {
      const frame = control[this.#controlHead];
      if (size > 0 && size + HEADER_SIZE > limit) break;
      this.#controlHead++;
      if (frame.owner?.dropped) continue;
      frames.push(frame);
      size += HEADER_SIZE;
    }
    while (this.#dataHead < data.length) {
      const frame = data[this.#dataHead];
      const frameSize = HEADER_SIZE + frame.length;
      if (size > 0 && size + frameSize > limit) break;
      this.#dataHead++;
      this.#queuedBytes -= frame.length;
      if (frame.owner?.dropped) continue;
      frames.push(frame);
      size += frameSize;
    }
    this.#compact();
    const out = new Uint8Array(size);
    const view = new DataView(out.buffer);
    let offset = 0;
    for (const frame of frames) {
      writeHeaderInto(view, offset, frame);
      offset += HEADER_SIZE;
      if (frame.payload !== null && frame.length > 0) {
        out.set(frame.payload, offset);
        offset += frame.length;
      }
    }
    return out;
  }

  #compact(): void {
    if (this.#controlHead === this.#control.length) {
      this.#control = [];
      this.#controlHead = 0;
    } else if (this.#controlHead >= 1024) {
      this.#control = this.#control.slice(this.#controlHead);
      this.#controlHead = 0;
    }
    if (this.#dataHead === this.#data.length) {
      this.#data = [];
      this.#dataHead = 0;
    } else if (this.#dataHead >= 1024) {
      this.#data = this.#data.slice(this.#dataHead);
      this.#dataHead = 0;
    }
  }
}

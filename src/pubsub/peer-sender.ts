/**
 * The outbound queue to one peer: frames are queued (bounded; the oldest
 * are dropped when a peer cannot keep up), coalesced into large writes on
 * one long-lived stream, and written in order. A peer that cannot be
 * reached is marked unreachable for a while and its queue dropped, so one
 * dead subscriber never stalls the others.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { Dialer } from "../node/request-channel.ts";
import type { Stream } from "../transport/connection.ts";
import { Queue } from "../util/queue.ts";
import { encodeFrames, FRAME_HEADER } from "../wire/frame.ts";
import { PUBSUB_PROTOCOL } from "./messages.ts";

/** Options of a `PeerSender`. */
export interface PeerSenderOptions {
  /** Frames queued before the oldest are dropped. Default 4096. */
  maxQueue?: number;
  /** How long an unreachable peer is skipped, ms. Default 5 000. */
  retryAfter?: number;
  /** Deadline to connect and open the stream, ms. Default 3 000. */
  connectTimeout?: number;
  /** Told how many frames were dropped and why. */
  onDrop?: (count: number, reason: "queue-full" | "unreachable") => void;
  /** Told when the sender becomes idle (nothing queued or being written). */
  onIdle?: () => void;
}

const BATCH = 64 * 1024;

/** Sends frames to one peer. */
export class PeerSender {
  readonly peer: NodeId;
  #node: Dialer;
  #opts: Required<Omit<PeerSenderOptions, "onDrop" | "onIdle">> & Pick<PeerSenderOptions, "onDrop" | "onIdle">;
  #queue = new Queue<Uint8Array>();
  #pumping = false;
  #drainWaiters: Array<() => void> = [];
  #stream: Stream | null = null;
  #unreachableUntil = 0;
  #closed = false;
  #roomWaiters: Array<() => void> = [];

  constructor(node: Dialer, peer: NodeId, options: PeerSenderOptions = {}) {
    this.#node = node;
    this.peer = peer;
    this.#opts = { maxQueue: 4096, retryAfter: 5_000, connectTimeout: 3_000, ...options };
  }

  /** True while the peer is considered unreachable. */
  get unreachable(): boolean {
    return Date.now() < this.#unreachableUntil;
  }

  /** Frames waiting. */
  get queued(): number {
    return this.#queue.length;
  }

  /** True when the queue is over three quarters full: publishers should slow down. */
  get congested(): boolean {
    return this.#queue.length > (this.#opts.maxQueue * 3) >> 2;
  }

  /**
   * Resolves when the queue has drained to half (or the peer was given up
   * on), or after `maxWait` ms — then the oldest frames get dropped instead.
   */
  room(maxWait: number): Promise<void> {
    if (!this.congested) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, maxWait);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#roomWaiters.push(done);
    });
  }

  #wake(): void {
    if (this.#roomWaiters.length === 0 || this.#queue.length > this.#opts.maxQueue >> 1) return;
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const w of waiters) w();
  }

  /** True when nothing is queued or being written. */
  get idle(): boolean {
    return this.#queue.length === 0 && !this.#pumping;
  }

  /** Queue one encoded message (CBOR); it is framed here. */
  send(message: Uint8Array): void {
    if (this.#closed) return;
    if (this.unreachable) {
      this.#opts.onDrop?.(1, "unreachable");
      return;
    }
    this.#queue.push(message);
    if (this.#queue.length > this.#opts.maxQueue) {
      this.#queue.shift();
      this.#opts.onDrop?.(1, "queue-full");
    }
    if (!this.#pumping) queueMicrotask(() => this.#pump());
  }

  async #ensureStream(): Promise<Stream> {
    if (this.#stream && !this.#stream.connection.isClosed) return this.#stream;
    const signal = AbortSignal.timeout(this.#opts.connectTimeout);
    const conn = await this.#node.connect(this.peer, { signal });
    const stream = await conn.openStream(PUBSUB_PROTOCOL, { signal });
    this.#stream = stream;
    stream.closed.then(() => {
      if (this.#stream === stream) this.#stream = null;
    });
    return stream;
  }

  async #pump(): Promise<void> {
    if (this.#pumping || this.#closed) return;
    this.#pumping = true;
    let retries = 0;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        let stream: Stream;
        try {
          stream = await this.#ensureStream();
        } catch {
          this.#unreachableUntil = Date.now() + this.#opts.retryAfter;
          this.#opts.onDrop?.(this.#queue.length, "unreachable");
          this.#queue.clear();
          this.#wake();
          break;
        }
        const batch: Uint8Array[] = [];
        let size = 0;
        for (let next = this.#queue.peek(); next; next = this.#queue.peek()) {
          if (batch.length > 0 && size + FRAME_HEADER + next.length > BATCH) break;
          batch.push(this.#queue.shift()!);
          size += FRAME_HEADER + next.length;
        }
        this.#wake();
        try {
          await stream.write(encodeFrames(batch));
        } catch {
          // The stream died: put the batch back and retry on a fresh stream once.
          this.#stream = null;
          for (let i = batch.length - 1; i >= 0; i--) this.#queue.unshift(batch[i]);
          if (stream.connection.isClosed && retries++ < 2) continue;
          this.#unreachableUntil = Date.now() + this.#opts.retryAfter;
          this.#opts.onDrop?.(this.#queue.length, "unreachable");
          this.#queue.clear();
          this.#wake();
        }
      }
    } finally {
      this.#pumping = false;
    }
    if (this.#queue.length === 0) {
      this.#opts.onIdle?.();
      for (const w of this.#drainWaiters.splice(0)) w();
    }
  }

  /**
   * Finish gracefully: wait until everything queued was written, close our
   * side of the stream, and wait until the peer has read it all (it closes
   * its side once it has handled every frame). At most `timeout` ms; then
   * `close()`. Bytes handed to a stream are not yet delivered: a node that
   * stopped right after writing could lose them, which `drain` prevents.
   */
  async drain(timeout: number): Promise<void> {
    const deadline = Date.now() + timeout;
    const left = () => Math.max(0, deadline - Date.now());
    while (!this.#closed && !this.idle && left() > 0) {
      const idle = new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
      await Promise.race([idle, new Promise((r) => setTimeout(r, Math.min(left(), 100)))]);
    }
    const stream = this.#stream;
    if (!this.#closed && stream && !stream.connection.isClosed) {
      this.#closed = true;
      this.#stream = null;
      const finished = (async () => {
        await stream.closeWrite();
        while ((await stream.read()) !== null) { /* the peer sends nothing; wait for its end */ }
      })().catch(() => {});
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([finished, new Promise((r) => timer = setTimeout(r, left()))]);
      clearTimeout(timer);
      stream.reset("pub/sub sender closed");
    }
    this.close();
  }

  /** Stop sending; drops the queue and closes the stream. */
  close(): void {
    this.#closed = true;
    this.#queue.clear();
    this.#wake();
    if (!this.#pumping) this.#opts.onIdle?.();
    this.#stream?.closeWrite().catch(() => {});
    this.#stream = null;
  }
}

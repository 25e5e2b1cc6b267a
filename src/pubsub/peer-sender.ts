/**
 * The outbound queue to one peer: frames are queued (bounded; the oldest
 * are dropped when a peer cannot keep up), coalesced into large writes on
 * one long-lived stream, and written in order. The receiver acknowledges
 * the frames it handled (`acks.ts`); a frame counts as sent only then.
 * Frames written but not acknowledged when the stream or connection dies go
 * back to the front of the queue and are written again on the next
 * connection to the same peer (a reconnect or a restart), so nothing is
 * lost silently: every frame is acknowledged or reported dropped with a
 * reason. A peer that cannot be reached is marked unreachable for a while
 * and its queue dropped, so one dead subscriber never stalls the others.
 *
 * Moving to another connection (a relayed peer became directly reachable,
 * or the direct path died and the relayed one took over): before the next
 * batch the sender checks which connection the node uses for the peer. If
 * it is not the one its stream runs on, it stops writing, waits until the
 * old stream acknowledged everything written on it (at most
 * `connectTimeout`), half-closes it, and only then opens a stream on the new
 * connection. So frames never overtake each other across the two paths: the
 * receiver sees them in order, and what the old path never acknowledged is
 * written again on the new one (the receiver's `SequenceGuard` drops a copy
 * it did handle). Only when the old path neither acknowledges nor dies
 * within the deadline is its stream reset and its unacknowledged frames sent
 * again — a copy of one still in flight on the old path would then arrive
 * late and be dropped.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { Dialer } from "../node/request-channel.ts";
import type { Connection, Stream } from "../transport/connection.ts";
import { Queue } from "../util/queue.ts";
import { encodeFrames, FRAME_HEADER } from "../wire/frame.ts";
import { readAcks } from "./acks.ts";
import { PUBSUB_PROTOCOL } from "./messages.ts";

/** Why queued frames were given up on. */
export type DropReason = "queue-full" | "unreachable" | "closed";

/** One queued frame; `route` is set for messages (what the sent counter counts). */
export interface OutFrame {
  bytes: Uint8Array;
  route?: "direct" | "via-forwarder";
}

/** Options of a `PeerSender`. */
export interface PeerSenderOptions {
  /** Frames queued before the oldest are dropped. Default 4096. */
  maxQueue?: number;
  /** How long an unreachable peer is skipped, ms. Default 5 000. */
  retryAfter?: number;
  /** Deadline to connect and open the stream, ms. Default 3 000. */
  connectTimeout?: number;
  /** Told how many frames were dropped and why. */
  onDrop?: (frames: OutFrame[], reason: DropReason) => void;
  /** Told which frames the peer acknowledged (handled). */
  onSent?: (frames: OutFrame[]) => void;
  /** Told when the sender becomes idle (nothing queued, being written or unacknowledged). */
  onIdle?: () => void;
}

const BATCH = 64 * 1024;

/** What a sender needs of its node: connections by peer id, and which one is in use. */
export interface SenderNode extends Dialer {
  /** The connection the node uses for `peer` now, if any (checked before each batch). */
  connection?(peer: NodeId): Connection | undefined;
}

/** Sends frames to one peer. */
export class PeerSender {
  readonly peer: NodeId;
  #node: SenderNode;
  #opts: Required<Pick<PeerSenderOptions, "maxQueue" | "retryAfter" | "connectTimeout">> & PeerSenderOptions;
  #queue = new Queue<OutFrame>();
  /** Frames written on `#stream` and not yet acknowledged, oldest first. */
  #unacked: OutFrame[] = [];
  #pumping = false;
  #drainWaiters: Array<() => void> = [];
  #stream: Stream | null = null;
  #reader: Promise<void> | null = null;
  #unreachableUntil = 0;
  /** Bumped by `reachable()`: a connect attempt older than the last connection does not count as failed. */
  #reachableEpoch = 0;
  #closed = false;
  #roomWaiters: Array<() => void> = [];
  #ackWaiters: Array<() => void> = [];

  constructor(node: SenderNode, peer: NodeId, options: PeerSenderOptions = {}) {
    this.#node = node;
    this.peer = peer;
    this.#opts = { maxQueue: 4096, retryAfter: 5_000, connectTimeout: 3_000, ...options };
  }

  /** True while the peer is considered unreachable. */
  get unreachable(): boolean {
    return Date.now() < this.#unreachableUntil;
  }

  /** The peer connected (again): it is no longer skipped as unreachable. */
  reachable(): void {
    this.#unreachableUntil = 0;
    this.#reachableEpoch++;
    this.#kick();
  }

  /** Frames waiting (not yet written). */
  get queued(): number {
    return this.#queue.length;
  }

  /** Frames written but not yet acknowledged. */
  get unacknowledged(): number {
    return this.#unacked.length;
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

  /** True when nothing is queued, being written or waiting for its acknowledgement. */
  get idle(): boolean {
    return this.#queue.length === 0 && !this.#pumping && this.#unacked.length === 0;
  }

  /** Queue one encoded frame (CBOR; it is framed here); `route` marks a message. */
  send(message: Uint8Array, route?: OutFrame["route"]): void {
    const frame = { bytes: message, route };
    if (this.#closed) return this.#opts.onDrop?.([frame], "closed");
    if (this.unreachable) return this.#opts.onDrop?.([frame], "unreachable");
    this.#queue.push(frame);
    if (this.#queue.length > this.#opts.maxQueue) this.#opts.onDrop?.([this.#queue.shift()!], "queue-full");
    this.#kick();
  }

  #kick(): void {
    if (!this.#pumping && this.#queue.length > 0) queueMicrotask(() => this.#pump());
  }

  async #ensureStream(): Promise<Stream> {
    const old = this.#stream;
    if (old && !old.connection.isClosed) {
      const now = this.#node.connection?.(this.peer);
      if (!now || now === old.connection || now.isClosed) return old;
      await this.#leave(old);
    }
    this.#requeueUnacked();
    const signal = AbortSignal.timeout(this.#opts.connectTimeout);
    const conn = await this.#node.connect(this.peer, { signal });
    const stream = await conn.openStream(PUBSUB_PROTOCOL, { signal });
    this.#stream = stream;
    this.#reader = readAcks(stream, (n) => this.#acked(stream, n)).finally(() => this.#lost(stream));
    return stream;
  }

  /**
   * The node uses another connection for the peer now: wait until `old`
   * acknowledged what was written on it (or died), then half-close it.
   * Unacknowledged frames go back to the queue.
   */
  async #leave(old: Stream): Promise<void> {
    const deadline = Date.now() + this.#opts.connectTimeout;
    while (this.#unacked.length > 0 && this.#stream === old && !old.connection.isClosed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(wake, 50);
        function wake() {
          clearTimeout(timer);
          resolve();
        }
        this.#ackWaiters.push(wake);
      });
    }
    if (this.#stream !== old) return; // it died meanwhile (`#lost` requeued)
    this.#stream = null;
    if (this.#unacked.length === 0) {
      old.closeWrite().catch(() => {});
    } else {
      old.reset("pub/sub moved to another connection");
      this.#requeueUnacked();
    }
  }

  /** The peer handled `n` more frames of `stream`. */
  #acked(stream: Stream, n: number): void {
    if (this.#stream !== stream) return;
    for (const w of this.#ackWaiters.splice(0)) w();
    const done = this.#unacked.splice(0, n);
    if (done.length > 0) this.#opts.onSent?.(done);
    if (this.idle) this.#settled();
  }

  /** `stream` ended or failed: what it did not acknowledge goes back to the queue. */
  #lost(stream: Stream): void {
    if (this.#stream !== stream) return;
    this.#stream = null;
    this.#requeueUnacked();
    if (this.#closed) return;
    this.#kick();
  }

  #requeueUnacked(): void {
    for (let i = this.#unacked.length - 1; i >= 0; i--) this.#queue.unshift(this.#unacked[i]);
    this.#unacked = [];
  }

  #giveUp(reason: DropReason): void {
    this.#requeueUnacked();
    const frames: OutFrame[] = [];
    for (let f = this.#queue.shift(); f; f = this.#queue.shift()) frames.push(f);
    if (frames.length > 0) this.#opts.onDrop?.(frames, reason);
    this.#wake();
  }

  async #pump(): Promise<void> {
    if (this.#pumping || this.#closed) return;
    this.#pumping = true;
    let retries = 0;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        let stream: Stream;
        const epoch = this.#reachableEpoch;
        try {
          stream = await this.#ensureStream();
        } catch {
          if (epoch !== this.#reachableEpoch && retries++ < 2) continue; // the peer connected meanwhile
          this.#unreachableUntil = Date.now() + this.#opts.retryAfter;
          this.#giveUp("unreachable");
          break;
        }
        const batch: OutFrame[] = [];
        let size = 0;
        for (let next = this.#queue.peek(); next; next = this.#queue.peek()) {
          if (batch.length > 0 && size + FRAME_HEADER + next.bytes.length > BATCH) break;
          batch.push(this.#queue.shift()!);
          size += FRAME_HEADER + next.bytes.length;
        }
        this.#wake();
        this.#unacked.push(...batch);
        try {
          await stream.write(encodeFrames(batch.map((f) => f.bytes)));
        } catch {
          // The stream died: what it did not acknowledge goes back; retry on a fresh stream.
          if (this.#stream === stream) this.#stream = null;
          this.#requeueUnacked();
          if (stream.connection.isClosed && retries++ < 2) continue;
          this.#unreachableUntil = Date.now() + this.#opts.retryAfter;
          this.#giveUp("unreachable");
        }
      }
    } finally {
      this.#pumping = false;
    }
    if (this.idle) this.#settled();
  }

  #settled(): void {
    this.#opts.onIdle?.();
    for (const w of this.#drainWaiters.splice(0)) w();
  }

  /**
   * Finish gracefully: wait until everything queued was written and
   * acknowledged, close our side of the stream, and wait until the peer
   * closes its side. At most `timeout` ms; then `close()` (what is left is
   * counted as dropped).
   */
  async drain(timeout: number): Promise<void> {
    const deadline = Date.now() + timeout;
    const left = () => Math.max(0, deadline - Date.now());
    while (!this.#closed && !this.idle && left() > 0) {
      const idle = new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
      await Promise.race([idle, new Promise((r) => setTimeout(r, Math.min(left(), 100)))]);
    }
    const stream = this.#stream;
    const reader = this.#reader;
    if (!this.#closed && stream && reader && !stream.connection.isClosed) {
      const finished = stream.closeWrite().then(() => reader).catch(() => {});
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([finished, new Promise((r) => timer = setTimeout(r, left()))]);
      clearTimeout(timer);
    }
    this.close();
  }

  /** Stop sending: what is queued or unacknowledged is dropped (reason `closed`) and the stream reset. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const stream = this.#stream;
    this.#stream = null;
    this.#giveUp("closed");
    if (!this.#pumping) this.#settled();
    stream?.reset("pub/sub sender closed");
  }
}

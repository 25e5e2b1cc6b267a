/**
 * One provider's session within a download: the stream, request ids, the
 * requests in flight with their groups still due, the share of groups
 * claimed but not yet requested, and the measured rate and round-trip
 * time. The scheduling decisions are the download's (`download.ts`).
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { ByteStream } from "../transport/stream.ts";
import { type Deferred, deferred } from "../util/async.ts";
import { type ByteSource, writeFrame } from "../wire/frame.ts";
import {
  type ContentAnswer,
  type ContentRequest,
  encodeRequest,
  MAX_CONTENT_FRAME,
  MAX_REQUEST_ID,
} from "./messages.ts";
import { RateMeter } from "./download-rate.ts";
import { RangeSet } from "./ranges.ts";
import { GROUP_SIZE, groupLength } from "./tree.ts";

/** State of a provider in a download. */
export type ProviderState = "connecting" | "active" | "idle" | "stalled" | "dropped";

/** A want-block in flight. */
export interface BlockRequest {
  /** Groups requested and not yet received. */
  left: RangeSet;
  /** When it was sent (performance.now()). */
  sentAt: number;
  /** Taken over from another provider in the end game (never taken over again). */
  stolen: boolean;
}

/** Bytes of the groups of `set` in content of `size` bytes. */
export function bytesOf(set: RangeSet, size: number): number {
  const last = Math.max(0, Math.ceil(size / GROUP_SIZE) - 1);
  let n = set.count * GROUP_SIZE;
  if (set.has(last)) n -= GROUP_SIZE - groupLength(last, size);
  return n;
}

/** Minimum pipeline, bytes outstanding per provider. */
export const MIN_OUTSTANDING = 1024 * 1024;
/** Maximum pipeline, bytes outstanding per provider. */
export const MAX_OUTSTANDING = 32 * 1024 * 1024;
/** Pipeline before the provider's rate is known. */
export const INITIAL_OUTSTANDING = 2 * 1024 * 1024;

/** A provider's session (see the module doc). */
export class ProviderSession {
  /** State (see `ProviderState`). */
  state: ProviderState = "connecting";
  /** Why it was stalled or dropped. */
  reason?: string;
  /** The session stream, once open. */
  stream?: ByteStream;
  /** Groups it says it has (dont-haves remove from it). */
  have: RangeSet = new RangeSet();
  /** Groups claimed for it and not yet requested. */
  share: RangeSet = new RangeSet();
  /** Want-blocks in flight by id. */
  readonly requests: Map<number, BlockRequest> = new Map();
  /** Bytes requested and not yet received. */
  outstanding = 0;
  /** Bytes received from it. */
  bytes = 0;
  /** Bytes it sent outside its requests for groups already present. */
  wasted = 0;
  /** Round-trip time of its first answer, ms. */
  rtt = 50;
  /** Last time bytes arrived (or its pipeline went from empty to busy), performance.now(). */
  lastProgress: number = performance.now();
  /** Until when it is not asked for blocks (it answered busy). */
  busyUntil = 0;
  /** How many times it answered busy. */
  busyStrikes = 0;
  /** When its first want-block was sent (performance.now(); 0 before). */
  firstRequestAt = 0;
  /** Receive rate. */
  readonly meter: RateMeter = new RateMeter(2000);
  #nextId = 1;
  #waiters = new Map<number, Deferred<ContentAnswer>>();
  #writeTail: Promise<void> = Promise.resolve();

  /** A session with `peer` for content of `size` bytes. */
  constructor(readonly peer: NodeId, readonly size: number) {}

  /** The peer's did. */
  get did(): string {
    return this.peer.did;
  }

  /** Whether it still takes part (may be given work). */
  get usable(): boolean {
    return this.state === "connecting" || this.state === "active" || this.state === "idle";
  }

  /** Control requests waiting for their answer. */
  get pendingControl(): number {
    return this.#waiters.size;
  }

  /** A fresh request id. */
  nextId(): number {
    const id = this.#nextId;
    this.#nextId = this.#nextId >= MAX_REQUEST_ID ? 1 : this.#nextId + 1;
    return id;
  }

  /** Bytes the pipeline should keep requested: about two round trips (plus scheduling slack) at its rate. */
  target(): number {
    const rate = this.meter.rate();
    if (this.meter.total < MIN_OUTSTANDING || rate === 0) return INITIAL_OUTSTANDING;
    const want = rate * (this.rtt + 50) / 1000 * 2;
    return Math.max(MIN_OUTSTANDING, Math.min(MAX_OUTSTANDING, want));
  }

  /**
   * Its delivery rate, bytes/s, for end-game decisions: over its whole life
   * while that is under the meter's window (a young provider's burst is not
   * taken for a rate, nor its start-up for slowness), else the meter's.
   */
  deliveryRate(now = performance.now()): number {
    const age = now - this.firstRequestAt;
    if (this.firstRequestAt === 0) return 0;
    return age < this.meter.window ? this.bytes * 1000 / Math.max(age, 1) : this.meter.rate(now);
  }

  /** Write a request (writes keep their order); rejects if the stream fails. */
  send(request: ContentRequest): Promise<void> {
    const stream = this.stream;
    if (!stream) return Promise.reject(new Error("session not open"));
    const next = this.#writeTail.then(() => writeFrame(stream, encodeRequest(request), MAX_CONTENT_FRAME));
    this.#writeTail = next.catch(() => {});
    return next;
  }

  /** Send a want-have or want-tree and wait for its answer. */
  control(request: ContentRequest): Promise<ContentAnswer> {
    const waiter = deferred<ContentAnswer>();
    this.#waiters.set(request.id, waiter);
    this.lastProgress = performance.now();
    this.send(request).catch((error) => this.#waiters.get(request.id) === waiter && waiter.reject(error));
    return waiter.promise.finally(() => this.#waiters.delete(request.id));
  }

  /** Hand `answer` to the control request waiting for it; false if none waits. */
  answered(answer: ContentAnswer): boolean {
    const waiter = this.#waiters.get(answer.id);
    if (!waiter) return false;
    this.#waiters.delete(answer.id);
    waiter.resolve(answer);
    return true;
  }

  /** Send a want-block for `groups`. */
  request(want: ContentRequest & { t: "want-block" }, stolen = false): BlockRequest {
    const req = { left: want.ranges.clone(), sentAt: performance.now(), stolen };
    if (this.requests.size === 0) this.lastProgress = req.sentAt;
    if (this.firstRequestAt === 0) this.firstRequestAt = req.sentAt;
    this.requests.set(want.id, req);
    this.outstanding += bytesOf(want.ranges, this.size);
    this.send(want).catch(() => {}); // a failed stream ends the read loop, which drops the session
    return req;
  }

  /** Every group requested and not received, and the share; both emptied. */
  takeAll(): RangeSet {
    const out = this.share;
    this.share = new RangeSet();
    for (const r of this.requests.values()) out.union(r.left);
    this.requests.clear();
    this.outstanding = 0;
    return out;
  }

  /** Fail every waiting control request. */
  failWaiters(error: Error): void {
    const waiters = [...this.#waiters.values()];
    this.#waiters.clear();
    for (const w of waiters) w.reject(error);
  }

  /** The stream as a byte source that records progress. */
  source(): ByteSource {
    const stream = this.stream!;
    return {
      read: async () => {
        const chunk = await stream.read();
        if (chunk) this.lastProgress = performance.now();
        return chunk;
      },
    };
  }
}

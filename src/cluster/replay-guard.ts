/**
 * Replay protection for cluster datagrams without any clock: every sender
 * stamps its datagrams with a boot epoch (8 random bytes chosen when its
 * engine starts) and a counter that rises by one per datagram. A receiver
 * keeps, per sender, the latest epochs it accepted, each with its highest
 * counter and a sliding window of the counters seen below it, so a
 * datagram is accepted at most once and late ones (reordered by less than
 * the window) still pass. Nothing depends on the sender's or the
 * receiver's wall clock, so boards whose clocks disagree by hours cluster.
 *
 * Bounds, and why eviction cannot help a replayer:
 * - per sender: `epochs` live epochs (a new one is a restart and replaces
 *   the least recently used), and the last `retired` replaced epoch ids,
 *   whose datagrams are refused as `stale`;
 * - in total: `capacity` senders. Pinned senders (the engine pins current
 *   members) are never evicted; when the table is full the least recently
 *   used unpinned sender is forgotten. One sender's flood only ever touches
 *   its own state, so it cannot make another member's old datagrams pass.
 *
 * @module
 */

/** Verdict of `ReplayGuard.check`. */
export type Freshness = "ok" | "stale" | "replay";

/** Options of `ReplayGuard`. */
export interface ReplayGuardOptions {
  /** Counters this far below the highest one seen are still accepted once (reordering). Default 256. */
  window?: number;
  /** Live epochs kept per sender. Default 2. */
  epochs?: number;
  /** Replaced epochs remembered per sender (refused as `stale`). Default 4. */
  retired?: number;
  /** Senders remembered in total (pinned ones never evicted). Default 2 048. */
  capacity?: number;
  /** Senders that must never be evicted (current members). */
  isPinned?: (sender: string) => boolean;
}

interface EpochState {
  epoch: string;
  high: number;
  /** Bit i set: counter `high - i` was accepted. */
  seen: bigint;
  used: number;
}

interface SenderState {
  live: EpochState[];
  retired: string[];
}

/**
 * Per-sender replay windows.
 *
 * @example
 * ```ts
 * import { ReplayGuard } from "./replay-guard.ts";
 * const guard = new ReplayGuard();
 * guard.check("a1", "e1", 1); // "ok"
 * guard.accept("a1", "e1", 1);
 * guard.check("a1", "e1", 1); // "replay"
 * guard.check("a1", "e1", 2); // "ok"
 * guard.check("b2", "e9", 1); // "ok": another sender, its own state
 * ```
 */
export class ReplayGuard {
  readonly window: number;
  readonly epochs: number;
  readonly retired: number;
  readonly capacity: number;
  readonly #isPinned: (sender: string) => boolean;
  readonly #mask: bigint;
  /** sender → state; insertion order is least recently used first. */
  #senders = new Map<string, SenderState>();
  #tick = 0;

  /** A guard with the given bounds. */
  constructor(options: ReplayGuardOptions = {}) {
    this.window = Math.max(1, Math.floor(options.window ?? 256));
    this.epochs = Math.max(1, Math.floor(options.epochs ?? 2));
    this.retired = Math.max(0, Math.floor(options.retired ?? 4));
    this.capacity = Math.max(1, Math.floor(options.capacity ?? 2048));
    this.#isPinned = options.isPinned ?? (() => false);
    this.#mask = (1n << BigInt(this.window)) - 1n;
  }

  /** Number of senders remembered. */
  get size(): number {
    return this.#senders.size;
  }

  /** Is a datagram of `sender` stamped `(epoch, counter)` new? Does not remember it. */
  check(sender: string, epoch: string, counter: number): Freshness {
    const s = this.#senders.get(sender);
    if (!s) return "ok";
    if (s.retired.includes(epoch)) return "stale";
    const e = s.live.find((x) => x.epoch === epoch);
    if (!e || counter > e.high) return "ok";
    const back = e.high - counter;
    if (back >= this.window) return "replay";
    return (e.seen >> BigInt(back)) & 1n ? "replay" : "ok";
  }

  /** Remember an accepted datagram (call after authenticating it, and only if `check` said `ok`). */
  accept(sender: string, epoch: string, counter: number): void {
    let s = this.#senders.get(sender);
    if (s) {
      this.#senders.delete(sender); // re-inserted below: most recently used
    } else {
      s = { live: [], retired: [] };
    }
    this.#senders.set(sender, s);
    let e = s.live.find((x) => x.epoch === epoch);
    if (!e) {
      e = { epoch, high: counter, seen: 1n, used: 0 };
      s.live.push(e);
      if (s.live.length > this.epochs) this.#retire(s, e);
    } else if (counter > e.high) {
      const shift = counter - e.high;
      e.seen = shift >= this.window ? 1n : ((e.seen << BigInt(shift)) | 1n) & this.#mask;
      e.high = counter;
    } else {
      e.seen |= 1n << BigInt(e.high - counter);
    }
    e.used = ++this.#tick;
    if (this.#senders.size > this.capacity) this.#evict();
  }

  /** Replace the least recently used epoch of `s` (never `keep`, the one just added). */
  #retire(s: SenderState, keep: EpochState): void {
    let oldest: EpochState | undefined;
    for (const x of s.live) if (x !== keep && (!oldest || x.used < oldest.used)) oldest = x;
    if (!oldest) return;
    s.live = s.live.filter((x) => x !== oldest);
    if (this.retired === 0) return;
    s.retired.push(oldest.epoch);
    if (s.retired.length > this.retired) s.retired.shift();
  }

  /** Forget the least recently used sender that is not pinned (if every one is pinned, none). */
  #evict(): void {
    for (const sender of this.#senders.keys()) {
      if (this.#isPinned(sender)) continue;
      this.#senders.delete(sender);
      return;
    }
  }
}

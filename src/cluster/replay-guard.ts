/**
 * Freshness and replay protection for cluster datagrams: a timestamp must
 * be within the allowed clock skew, and each `(sender, nonce)` is accepted
 * once. Memory is bounded: when the cache is full the oldest entries are
 * forgotten and anything not newer than them is refused as stale.
 *
 * @module
 */

/** Verdict of `ReplayGuard.check`. */
export type Freshness = "ok" | "stale" | "replay";

/**
 * Remembers recent `(sender, nonce)` pairs.
 *
 * @example
 * ```ts
 * import { ReplayGuard } from "./replay-guard.ts";
 * const guard = new ReplayGuard({ maxSkew: 30_000 });
 * const now = Date.now();
 * guard.check("a1", "n1", now, now); // "ok"
 * guard.accept("a1", "n1", now, now);
 * guard.check("a1", "n1", now, now); // "replay"
 * guard.check("a1", "n2", now - 60_000, now); // "stale"
 * ```
 */
export class ReplayGuard {
  readonly maxSkew: number;
  readonly capacity: number;
  /** key → timestamp; insertion order ≈ arrival order. */
  #seen = new Map<string, number>();
  /** Timestamps at or below this are refused (raised when entries are evicted early). */
  #floor = 0;

  constructor(options: { maxSkew?: number; capacity?: number } = {}) {
    this.maxSkew = options.maxSkew ?? 30_000;
    this.capacity = options.capacity ?? 65_536;
  }

  /** Number of remembered nonces. */
  get size(): number {
    return this.#seen.size;
  }

  /** Is a datagram with this sender, nonce and timestamp fresh? Does not remember it. */
  check(sender: string, nonce: string, timestamp: number, now: number = Date.now()): Freshness {
    if (Math.abs(timestamp - now) > this.maxSkew || timestamp <= this.#floor) return "stale";
    return this.#seen.has(`${sender}:${nonce}`) ? "replay" : "ok";
  }

  /** Remember an accepted datagram (call after authenticating it). */
  accept(sender: string, nonce: string, timestamp: number, now: number = Date.now()): void {
    this.#expire(now);
    this.#seen.set(`${sender}:${nonce}`, timestamp);
    while (this.#seen.size > this.capacity) {
      const [key, ts] = this.#seen.entries().next().value!;
      this.#seen.delete(key);
      this.#floor = Math.max(this.#floor, ts);
    }
  }

  #expire(now: number): void {
    // Entries older than the skew window can no longer pass `check`; drop them.
    // Arrival order is close to timestamp order, so stop at the first fresh one.
    const cutoff = now - this.maxSkew;
    for (const [key, ts] of this.#seen) {
      if (ts >= cutoff) break;
      this.#seen.delete(key);
    }
  }
}

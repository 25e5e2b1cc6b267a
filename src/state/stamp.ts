/**
 * Hybrid logical clock stamps: the order of writes in replicated state.
 * A stamp is (wall ms, counter, writer id in hex); stamps compare in that
 * order, so two different writers never tie. A replica's clock never goes
 * back and moves past every stamp it has seen, so a write made after seeing
 * another always wins over it (causal overwrite), whatever the wall clocks.
 *
 * @module
 */

/** The order of one write. */
export interface Stamp {
  /** Wall clock, ms since the epoch (at least the largest stamp seen). */
  readonly t: number;
  /** Tie-breaker within one millisecond. */
  readonly c: number;
  /** The writer: its node id in hex. */
  readonly o: string;
}

/**
 * Compare two stamps: negative if `a` is older, positive if newer, 0 if equal.
 *
 * @example
 * ```ts
 * import { compareStamps } from "./stamp.ts";
 * compareStamps({ t: 1, c: 0, o: "aa" }, { t: 1, c: 0, o: "bb" }) < 0; // true
 * ```
 */
export function compareStamps(a: Stamp, b: Stamp): number {
  if (a.t !== b.t) return a.t - b.t;
  if (a.c !== b.c) return a.c - b.c;
  return a.o < b.o ? -1 : a.o > b.o ? 1 : 0;
}

/** Clocks further ahead than this (ms) are not followed (a broken peer clock cannot freeze ours). */
export const MAX_DRIFT = 24 * 3600_000;

/**
 * A replica's hybrid logical clock.
 *
 * @example
 * ```ts
 * import { HybridClock } from "./stamp.ts";
 * const clock = new HybridClock("aa", () => 1000);
 * clock.next(); // { t: 1000, c: 0, o: "aa" }
 * clock.next(); // { t: 1000, c: 1, o: "aa" }
 * ```
 */
export class HybridClock {
  #t = 0;
  #c = 0;
  readonly #origin: string;
  readonly #now: () => number;

  /** A clock of writer `origin` reading wall time from `now`. */
  constructor(origin: string, now: () => number = Date.now) {
    this.#origin = origin;
    this.#now = now;
  }

  /** The stamp of a new local write. */
  next(): Stamp {
    const now = this.#now();
    if (now > this.#t) {
      this.#t = now;
      this.#c = 0;
    } else {
      this.#c++;
    }
    return { t: this.#t, c: this.#c, o: this.#origin };
  }

  /** Move past a stamp seen from elsewhere (ignored when implausibly far ahead). */
  observe(stamp: Stamp): void {
    if (stamp.t > this.#now() + MAX_DRIFT) return;
    if (stamp.t > this.#t) {
      this.#t = stamp.t;
      this.#c = stamp.c;
    } else if (stamp.t === this.#t && stamp.c > this.#c) {
      this.#c = stamp.c;
    }
  }
}

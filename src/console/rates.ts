/**
 * Rates from monotonic counters sampled now and then: per key, the count
 * per second over (about) the last `window` ms.
 *
 * @module
 */

interface Sample {
  at: number;
  counts: Map<string, number>;
}

/**
 * Counts per second over a sliding window, from successive readings of
 * monotonic counters.
 *
 * @example
 * ```ts
 * import { RateWindow } from "./rates.ts";
 * const rates = new RateWindow(10_000);
 * rates.record(0, new Map([["a", 0]]));
 * const now = rates.record(2_000, new Map([["a", 10]]));
 * now.get("a"); // 5
 * ```
 */
export class RateWindow {
  #window: number;
  #samples: Sample[] = [];

  /** Rates over the last `window` ms (default 10 s). */
  constructor(window = 10_000) {
    this.#window = window;
  }

  /**
   * Record the counts read at `at` (ms); returns the rate of each key
   * (per second) since the oldest reading inside the window, or since the
   * newest one before it if none is inside; 0 for a first reading.
   */
  record(at: number, counts: Map<string, number>): Map<string, number> {
    const cutoff = at - this.#window;
    // Keep the newest reading at or before the cutoff as the base, drop older ones.
    while (this.#samples.length > 1 && this.#samples[1].at <= cutoff) this.#samples.shift();
    const base = this.#samples[0];
    const rates = new Map<string, number>();
    const dt = base ? (at - base.at) / 1000 : 0;
    for (const [key, n] of counts) {
      const before = base?.counts.get(key) ?? 0;
      rates.set(key, dt > 0 && n >= before ? round((n - before) / dt) : 0);
    }
    this.#samples.push({ at, counts });
    if (this.#samples.length > 64) this.#samples.splice(0, this.#samples.length - 64);
    return rates;
  }
}

/** Two decimals are enough for a rate on a page. */
function round(x: number): number {
  return Math.round(x * 100) / 100;
}

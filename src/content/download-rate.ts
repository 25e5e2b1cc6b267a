/**
 * A sliding-window byte-rate meter (250 ms buckets), for download progress
 * and per-provider pipeline sizing.
 *
 * @module
 */

const BUCKET_MS = 250;

/**
 * Bytes per second over the last `window` ms.
 *
 * @example
 * ```ts
 * import { RateMeter } from "./download-rate.ts";
 * const m = new RateMeter();
 * m.add(1000);
 * m.rate() >= 0; // true
 * ```
 */
export class RateMeter {
  #buckets: number[];
  #head = 0;
  #headTime: number;
  #start: number;
  #total = 0;

  /** A meter over `window` ms (default 3 s). */
  constructor(readonly window = 3000, now = performance.now()) {
    this.#buckets = new Array(Math.max(1, Math.ceil(window / BUCKET_MS))).fill(0);
    this.#headTime = Math.floor(now / BUCKET_MS);
    this.#start = now;
  }

  #advance(now: number): void {
    const t = Math.floor(now / BUCKET_MS);
    const steps = Math.min(t - this.#headTime, this.#buckets.length);
    for (let i = 0; i < steps; i++) {
      this.#head = (this.#head + 1) % this.#buckets.length;
      this.#buckets[this.#head] = 0;
    }
    if (t > this.#headTime) this.#headTime = t;
  }

  /** Record `n` bytes now. */
  add(n: number, now = performance.now()): void {
    this.#advance(now);
    this.#buckets[this.#head] += n;
    this.#total += n;
  }

  /** Bytes recorded since creation. */
  get total(): number {
    return this.#total;
  }

  /**
   * Bytes/s over the window (or since creation, if younger, but over at
   * least `minSpan` ms: a young meter does not mistake a burst for a rate);
   * 0 before anything was recorded.
   */
  rate(now = performance.now(), minSpan = BUCKET_MS): number {
    this.#advance(now);
    let sum = 0;
    for (const b of this.#buckets) sum += b;
    const span = Math.min(this.window, Math.max(now - this.#start, minSpan));
    return sum * 1000 / span;
  }
}

/**
 * Local health: Lifeguard's local health multiplier (LHM) and an event-loop
 * stall detector. A node that misses acks, needs to refute suspicions of
 * itself, or sees its timers fire late is probably the slow one; it then
 * stretches its own probe intervals and timeouts, and does not accuse
 * others of failures it caused.
 *
 * @module
 */
import { monotonic } from "../clock.ts";

/**
 * The local health score, 0 (healthy) to `max`.
 *
 * @example
 * ```ts
 * import { LocalHealth } from "./health.ts";
 * const h = new LocalHealth(8);
 * h.apply(+2);
 * h.multiplier; // 3 (timeouts are tripled)
 * ```
 */
export class LocalHealth {
  readonly max: number;
  #score = 0;

  constructor(max: number) {
    this.max = max;
  }

  /** The current score. */
  get score(): number {
    return this.#score;
  }

  /** Probe intervals and timeouts are multiplied by this (score + 1). */
  get multiplier(): number {
    return this.#score + 1;
  }

  /** Add `delta` (negative for good news), clamped to `[0, max]`. */
  apply(delta: number): void {
    this.#score = Math.min(this.max, Math.max(0, this.#score + delta));
  }
}

/**
 * Notices when the event loop stalls (the process was stopped, the machine
 * is overloaded): a ticker measures how late it runs.
 *
 * @example
 * ```ts
 * import { StallDetector } from "./health.ts";
 * const d = new StallDetector({ tick: 100, threshold: 250 });
 * d.start();
 * d.stalledSince(performance.now() - 1000); // false unless the loop just stalled
 * d.stop();
 * ```
 */
export class StallDetector {
  readonly tick: number;
  readonly threshold: number;
  #timer?: ReturnType<typeof setInterval>;
  #last = 0;
  /** End time of the last detected stall. */
  #lastStallEnd = 0;

  constructor(options: { tick?: number; threshold?: number } = {}) {
    this.tick = options.tick ?? 100;
    this.threshold = options.threshold ?? 250;
  }

  start(): void {
    this.#last = monotonic();
    this.#timer = setInterval(() => this.#check(), this.tick);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Has the loop stalled at any time after `since` (monotonic ms, see `clock.ts`; checking now as well)? */
  stalledSince(since: number): boolean {
    this.#check();
    return this.#lastStallEnd > since;
  }

  #check(): void {
    const now = monotonic();
    if (now - this.#last > this.tick + this.threshold) this.#lastStallEnd = now;
    this.#last = now;
  }
}

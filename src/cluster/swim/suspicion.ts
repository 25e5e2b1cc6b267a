/**
 * Lifeguard suspicion: a timer that starts at a maximum and shrinks towards
 * a minimum as independent members confirm the suspicion,
 * `timeout(c) = max(min, max − (max − min) · log(c + 1) / log(k + 1))`.
 *
 * @module
 */
import { monotonic } from "../clock.ts";
import type { NodeId } from "../../identity/node-id.ts";

/**
 * The suspicion of one member.
 *
 * @example
 * ```ts
 * import { Suspicion } from "./suspicion.ts";
 * import { KeyPair } from "../../identity/ed25519.ts";
 * import { NodeId } from "../../identity/node-id.ts";
 * const a = new NodeId(KeyPair.generate().publicKey);
 * const s = new Suspicion({ min: 2000, max: 6000, expected: 2, from: a, onTimeout: () => {} });
 * s.timeout; // 6000 until others confirm
 * s.cancel();
 * ```
 */
export class Suspicion {
  readonly min: number;
  readonly max: number;
  /** Confirmations that bring the timeout down to `min`. */
  readonly expected: number;
  readonly startedAt: number;
  #confirmers = new Set<string>();
  #timer?: ReturnType<typeof setTimeout>;
  #onTimeout: () => void;
  #done = false;
  #deferred = false;
  #deadline = 0;

  constructor(options: {
    min: number;
    max: number;
    expected: number;
    /** Who raised it (not counted as a confirmation). */
    from: NodeId;
    onTimeout: () => void;
    /** Start, monotonic ms (`clock.ts`); default now. */
    now?: number;
  }) {
    this.min = options.min;
    this.max = Math.max(options.min, options.max);
    this.expected = Math.max(0, options.expected);
    this.startedAt = options.now ?? monotonic();
    this.#confirmers.add(options.from.hex);
    this.#onTimeout = options.onTimeout;
    this.#arm();
  }

  /** Independent confirmations so far. */
  get confirmations(): number {
    return this.#confirmers.size - 1;
  }

  /** The current total timeout, ms from `startedAt`. */
  get timeout(): number {
    if (this.expected < 1) return this.min;
    const c = Math.min(this.confirmations, this.expected);
    const frac = Math.log(c + 1) / Math.log(this.expected + 1);
    return Math.max(this.min, Math.floor(this.max - (this.max - this.min) * frac));
  }

  /** Record a confirmation by `by`; returns true if it was new (and so worth gossiping). */
  confirm(by: NodeId): boolean {
    if (this.#done || this.#confirmers.has(by.hex)) return false;
    this.#confirmers.add(by.hex);
    this.#arm();
    return true;
  }

  /** When the timer is due to fire, monotonic ms (`clock.ts`). */
  get deadline(): number {
    return this.#deadline;
  }

  /** Has `defer` been used? */
  get deferred(): boolean {
    return this.#deferred;
  }

  /** Re-arm to fire `delay` ms from now (used once, after a stall). */
  defer(delay: number): void {
    if (this.#done) return;
    this.#deferred = true;
    clearTimeout(this.#timer);
    this.#deadline = monotonic() + delay;
    this.#timer = setTimeout(() => this.#fire(), delay);
  }

  /** Stop the timer. */
  cancel(): void {
    this.#done = true;
    clearTimeout(this.#timer);
  }

  #arm(): void {
    if (this.#done || this.#deferred) return;
    clearTimeout(this.#timer);
    this.#deadline = this.startedAt + this.timeout;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, this.#deadline - monotonic()));
  }

  #fire(): void {
    // The callback either ends the suspicion (cancel) or defers it.
    if (!this.#done) this.#onTimeout();
  }
}

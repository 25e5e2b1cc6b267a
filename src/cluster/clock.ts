/**
 * Time in clustering. Nothing in the cluster protocol depends on clocks
 * agreeing between nodes (see `replay-guard.ts`); locally, durations
 * (probe timeouts, suspicion deadlines, rate limits, stall detection) use
 * a monotonic clock that does not jump when NTP finally sets the wall
 * clock of a board without an RTC, and the wall clock (`Clock`, injectable
 * through `ClusterOptions.clock`) is used only for what is shown: when a
 * member changed state, when an event happened.
 *
 * @module
 */

/** A wall clock: ms since the Unix epoch. */
export type Clock = () => number;

/**
 * The system wall clock (`Date.now`).
 *
 * @example
 * ```ts
 * import { systemClock } from "./clock.ts";
 * new Date(systemClock()).toISOString();
 * ```
 */
export const systemClock: Clock = () => Date.now();

/**
 * A wall clock `offset` ms ahead of (negative: behind) `base`, e.g. to
 * test nodes whose clocks disagree.
 *
 * @example
 * ```ts
 * import { offsetClock } from "./clock.ts";
 * const sixHoursBehind = offsetClock(-6 * 3_600_000);
 * sixHoursBehind() < Date.now(); // true
 * ```
 */
export function offsetClock(offset: number, base: Clock = systemClock): Clock {
  return () => base() + offset;
}

/**
 * Monotonic ms (arbitrary origin) for durations and deadlines.
 *
 * @example
 * ```ts
 * import { monotonic } from "./clock.ts";
 * const start = monotonic();
 * monotonic() - start; // ≥ 0, whatever the wall clock does
 * ```
 */
export function monotonic(): number {
  return performance.now();
}

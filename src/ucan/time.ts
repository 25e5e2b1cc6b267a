/**
 * Time bounds of tokens: valid from `nbf − skew` through `exp + skew`
 * (seconds since the epoch, inclusive). Without a trustworthy clock
 * (`now` undefined) only tokens without time bounds pass.
 *
 * @module
 */
import { ExpiredError, NoClockError, TooEarlyError } from "./errors.ts";

/** The clock skew allowed by default, in seconds (the spec's recommended ±60 s). */
export const DEFAULT_SKEW = 60;

function iso(seconds: number): string {
  const ms = seconds * 1000;
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${seconds}`;
}

/** Throw a `RangeError` unless `skew` is a non-negative finite number of seconds. */
export function checkSkew(skew: number): number {
  if (typeof skew !== "number" || !Number.isFinite(skew) || skew < 0) {
    throw new RangeError(`clock skew must be a non-negative number of seconds, got ${skew}`);
  }
  return skew;
}

/**
 * Throw `ExpiredError`, `TooEarlyError` or `NoClockError` unless a token
 * (`what` names it) with `exp` and `nbf` is valid at `now` give or take
 * `skew` seconds.
 */
export function checkTime(
  what: string,
  exp: number | null,
  nbf: number | undefined,
  now: number | undefined,
  skew: number,
): void {
  if (now === undefined) {
    if (exp !== null || nbf !== undefined) {
      throw new NoClockError(`${what} has time bounds but this node has no trustworthy clock`);
    }
    return;
  }
  if (exp !== null && now > exp + skew) {
    throw new ExpiredError(`${what} expired at ${iso(exp)} (now ${iso(now)}, ${skew} s of skew allowed)`);
  }
  if (nbf !== undefined && now < nbf - skew) {
    throw new TooEarlyError(`${what} is not valid before ${iso(nbf)} (now ${iso(now)}, ${skew} s of skew allowed)`);
  }
}

/**
 * The time the auth service checks tokens against. A board without a
 * battery-backed clock may boot in 1970: a reading before
 * `TRUSTWORTHY_SINCE` means "no clock", and then only tokens without
 * `nbf`/`exp` are accepted (the UCAN checks get `now` undefined). One
 * warning is logged the first time that happens.
 *
 * @module
 */
import type { Logger } from "../log/logger.ts";

/** Readings before this instant (2025-01-01T00:00:00Z, ms) are not trusted. */
export const TRUSTWORTHY_SINCE = Date.UTC(2025, 0, 1);

/** The warning logged once when the clock is not trustworthy. */
export const NO_CLOCK_WARNING = "no trustworthy clock: only tokens without nbf/exp are accepted";

/**
 * A clock that knows whether to trust itself.
 *
 * @example
 * ```ts
 * import { AuthClock } from "./clock.ts";
 * const clock = new AuthClock(() => 0); // a board that booted in 1970
 * clock.seconds(); // undefined: no trustworthy clock
 * new AuthClock(() => Date.UTC(2026, 0, 1)).seconds(); // 1767225600
 * ```
 */
export class AuthClock {
  readonly #read: () => number;
  readonly #log?: Logger;
  #warned = false;

  /** `read` gives ms since the epoch (default `Date.now`); `log` gets the one warning. */
  constructor(read: () => number = Date.now, log?: Logger) {
    this.#read = read;
    this.#log = log;
  }

  /** The reading, ms (whether trustworthy or not). */
  ms(): number {
    return this.#read();
  }

  /** Seconds since the epoch, or `undefined` when the clock is not trustworthy (warns once). */
  seconds(): number | undefined {
    const ms = this.#read();
    if (ms >= TRUSTWORTHY_SINCE) return Math.floor(ms / 1000);
    if (!this.#warned) {
      this.#warned = true;
      this.#log?.warn(NO_CLOCK_WARNING, { reading: ms });
    }
    return undefined;
  }

  /** Whether the current reading is trustworthy. */
  get trusted(): boolean {
    return this.#read() >= TRUSTWORTHY_SINCE;
  }
}

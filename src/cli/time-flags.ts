/**
 * Times on the command line: `--exp 1h`, `--exp never`, `--nbf 2026-01-01T00:00:00Z`,
 * and the words that describe them back ("expires in 59 min", "expired 2 d ago").
 * Token times are seconds since the epoch.
 *
 * @module
 */
import { UsageError } from "./args.ts";

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** Longest relative time accepted: 100 years. */
const MAX_SECONDS = 100 * 365 * 86_400;

/**
 * A duration in seconds: digits and a unit `s`, `m`, `h`, `d` or `w`
 * (`90s`, `30m`, `1h`, `7d`); a bad one is a `UsageError` naming `flag`.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./time-flags.ts";
 * parseDuration("30m", "--exp"); // 1800
 * ```
 */
export function parseDuration(value: string, flag: string): number {
  const m = /^\s*(\d{1,10})\s*([smhdw])\s*$/i.exec(value);
  const seconds = m ? Number(m[1]) * UNITS[m[2].toLowerCase()] : NaN;
  if (!Number.isSafeInteger(seconds) || seconds <= 0 || seconds > MAX_SECONDS) {
    throw new UsageError(
      `invalid ${flag} ${JSON.stringify(value)}: expected a duration such as 30m, 1h, 7d (units s, m, h, d, w)${
        flag === "--exp" ? ", never, or a date (2026-01-31T12:00:00Z)" : " or a date (2026-01-31T12:00:00Z)"
      }`,
    );
  }
  return seconds;
}

/**
 * A point in time for `--exp` or `--nbf`, in seconds since the epoch: a
 * duration from `now` (`1h`), an ISO 8601 date, or (`--exp` only) `never`,
 * which is `null`.
 *
 * @example
 * ```ts
 * import { parseTimeFlag } from "./time-flags.ts";
 * parseTimeFlag("1h", "--exp", 1_700_000_000); // 1700003600
 * parseTimeFlag("never", "--exp", 1_700_000_000); // null
 * parseTimeFlag("2030-01-01T00:00:00Z", "--nbf", 0); // 1893456000
 * ```
 */
export function parseTimeFlag(value: string, flag: "--exp" | "--nbf", now: number): number | null {
  const v = value.trim();
  if (v === "never") {
    if (flag === "--exp") return null;
    throw new UsageError(`invalid ${flag} "never": name a duration or a date`);
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(v)) {
    const ms = Date.parse(v);
    if (!Number.isFinite(ms) || ms < 0) {
      throw new UsageError(`invalid ${flag} ${JSON.stringify(value)}: not a date (e.g. 2026-01-31T12:00:00Z)`);
    }
    return Math.floor(ms / 1000);
  }
  return now + parseDuration(v, flag);
}

/**
 * A span of seconds in words, coarsely: `45 s`, `12 min`, `5 h 3 min`, `3 d 4 h`.
 *
 * @example
 * ```ts
 * import { formatSpan } from "./time-flags.ts";
 * formatSpan(3725); // "1 h 2 min"
 * ```
 */
export function formatSpan(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) {
    const m = Math.floor((s % 3600) / 60);
    return `${Math.floor(s / 3600)} h${m ? ` ${m} min` : ""}`;
  }
  const h = Math.floor((s % 86_400) / 3600);
  return `${Math.floor(s / 86_400)} d${h ? ` ${h} h` : ""}`;
}

/**
 * How an expiry reads at `now`: "never expires", "expires in 59 min (2026-…Z)",
 * "expired 2 d ago (…)".
 */
export function describeExpiry(exp: number | null, now: number): string {
  if (exp === null) return "never expires";
  const at = isoSeconds(exp);
  return exp >= now ? `expires in ${formatSpan(exp - now)} (${at})` : `expired ${formatSpan(now - exp)} ago (${at})`;
}

/** How a not-before reads at `now`: "valid from 2026-… (in 3 h)" or "valid since … ". */
export function describeNotBefore(nbf: number, now: number): string {
  const at = isoSeconds(nbf);
  return nbf > now ? `not valid before ${at} (in ${formatSpan(nbf - now)})` : `valid since ${at}`;
}

/** Seconds since the epoch as an ISO date, or the number when out of range. */
export function isoSeconds(seconds: number): string {
  const d = new Date(seconds * 1000);
  return Number.isNaN(d.getTime()) ? String(seconds) : d.toISOString().replace(".000Z", "Z");
}

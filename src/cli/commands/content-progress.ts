/**
 * The progress display of `macula content fetch`: a bar redrawn in place on
 * a terminal (bytes, rate, ETA, providers in use), plain periodic lines
 * otherwise. Pure formatting; the command feeds it.
 *
 * @module
 */

/** One progress sample. */
export interface ProgressSample {
  /** Bytes done (verified). */
  bytes: number;
  /** Bytes in all. */
  size: number;
  /** Bytes/s now. */
  rate: number;
  /** Providers sending, if known. */
  providers?: number;
}

/** `1536` → `"1.5 KiB"`. */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) n /= 1024, i++;
  return i === 0 ? `${n} B` : `${n.toFixed(n < 10 ? 2 : 1)} ${units[i]}`;
}

/** Seconds as `"42s"`, `"3m05s"`, `"1h02m"`; `"?"` when unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, "0")}m`;
}

function parts(p: ProgressSample): { pct: number; eta: string; tail: string } {
  const pct = p.size === 0 ? 100 : Math.min(100, (p.bytes / p.size) * 100);
  const eta = p.rate > 0 ? formatDuration((p.size - p.bytes) / p.rate) : "?";
  const tail = p.providers === undefined ? "" : `, ${p.providers} provider${p.providers === 1 ? "" : "s"}`;
  return { pct, eta, tail };
}

/**
 * The terminal line: `[#####.....]  42%  27.0 MiB / 64.0 MiB  8.1 MiB/s  ETA 5s  3 providers`.
 *
 * @example
 * ```ts
 * import { progressBar } from "./content-progress.ts";
 * progressBar({ bytes: 512, size: 1024, rate: 256, providers: 2 }, 10);
 * // "[#####.....]  50%  512 B / 1.00 KiB  256 B/s  ETA 2s, 2 providers"
 * ```
 */
export function progressBar(p: ProgressSample, width = 24): string {
  const { pct, eta, tail } = parts(p);
  const filled = Math.round((pct / 100) * width);
  const bar = "#".repeat(filled) + ".".repeat(width - filled);
  return `[${bar}] ${pct.toFixed(0).padStart(3)}%  ${formatBytes(p.bytes)} / ${formatBytes(p.size)}  ${
    formatBytes(p.rate)
  }/s  ETA ${eta}${tail}`;
}

/** The plain periodic line (no terminal): `fetching: 27.0 MiB of 64.0 MiB (42%), 8.1 MiB/s, ETA 5s, 3 providers`. */
export function progressLine(p: ProgressSample): string {
  const { pct, eta, tail } = parts(p);
  return `fetching: ${formatBytes(p.bytes)} of ${formatBytes(p.size)} (${pct.toFixed(0)}%), ${
    formatBytes(p.rate)
  }/s, ETA ${eta}${tail}`;
}

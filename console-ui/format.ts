/**
 * Small formatting helpers for the page: ids, sizes, rates, durations.
 *
 * @module
 */

/** `z6MkhaXg…Yb3kQp`: a did:key without its method prefix, its first 8 and last 6 characters. */
export function shortId(id: string): string {
  const body = id.replace(/^did:key:/, "");
  return body.length <= 16 ? body : `${body.slice(0, 8)}…${body.slice(-6)}`;
}

/** 1536 → "1.5 KiB". */
export function bytes(n: number): string {
  if (!Number.isFinite(n)) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n.toFixed(0) : n.toFixed(n < 10 ? 1 : 0)} ${units[i]}`;
}

/** A rate with at most 3 significant figures: 0, 0.25, 12.5, 1200. */
export function rate(n: number): string {
  if (!n) return "0";
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

/** 3725 s → "1 h 2 min". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

/** How long ago `at` (ms since the epoch) was, seen from `now`: "12 s ago". */
export function ago(at: number, now: number): string {
  return `${duration((now - at) / 1000)} ago`;
}

/** An RTT in ms: "0.42 ms", "12 ms". */
export function ms(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "";
  return n < 10 ? `${n.toFixed(2)} ms` : `${n.toFixed(0)} ms`;
}

/** A wall-clock time for tooltips. */
export function clock(at: number): string {
  return new Date(at).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

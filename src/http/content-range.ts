/**
 * The `Range: bytes=…` header of `GET /content/<mcid>`: one range, parsed
 * strictly against the content's size.
 *
 * @module
 */

/** A satisfiable byte range, `end` exclusive. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Parse a `Range` header for content of `size` bytes: `null` when there is
 * no header (the whole content), a range when it is one satisfiable
 * `bytes=a-b`, `bytes=a-` or `bytes=-n`, and `"unsatisfiable"` for anything
 * else (several ranges, bad syntax, a start at or past the end).
 *
 * @example
 * ```ts
 * import { parseRange } from "./content-range.ts";
 * parseRange("bytes=0-99", 1000);  // { start: 0, end: 100 }
 * parseRange("bytes=-10", 1000);   // { start: 990, end: 1000 }
 * parseRange("bytes=1000-", 1000); // "unsatisfiable"
 * ```
 */
export function parseRange(header: string | null, size: number): ByteRange | null | "unsatisfiable" {
  if (header === null) return null;
  const m = /^\s*bytes\s*=\s*(\d{0,16})\s*-\s*(\d{0,16})\s*$/i.exec(header);
  if (!m || (m[1] === "" && m[2] === "")) return "unsatisfiable";
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size };
  }
  const start = Number(m[1]);
  if (start >= size) return "unsatisfiable";
  if (m[2] === "") return { start, end: size };
  const last = Number(m[2]);
  if (last < start) return "unsatisfiable";
  return { start, end: Math.min(size, last + 1) };
}

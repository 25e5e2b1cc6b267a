/**
 * Selectors of the UCAN 1.0 policy language (jq-inspired paths into an
 * invocation's `args`): `.` (identity), `.name` (field), `.["any key"]`
 * (quoted field), `.[0]` / `.[-1]` (list or bytes index), `.[1:3]`,
 * `.[:-1]` (list or bytes slice), `.[]` (collection values) and `?` after a
 * segment (optional: null where it would fail). A field or index segment
 * may follow another directly (`.to[1]`).
 *
 * Resolution: a missing key of a map is `null`; a segment that cannot be
 * applied (a field of a non-map, an index out of range or of a non-list)
 * fails, unless it is optional, in which case it gives `null`. Resolution
 * stops at the first failure, even if a later segment is optional.
 *
 * @module
 */
import { InvalidPolicyError } from "./errors.ts";
import { isMap } from "./ipld.ts";

/** Longest selector accepted, in UTF-16 code units. */
export const MAX_SELECTOR_LENGTH = 1024;

/** One step of a parsed selector. */
export type SelectorSegment =
  | { readonly kind: "field"; readonly key: string; readonly optional: boolean }
  | { readonly kind: "index"; readonly index: number; readonly optional: boolean }
  | { readonly kind: "slice"; readonly start?: number; readonly end?: number; readonly optional: boolean }
  | { readonly kind: "values"; readonly optional: boolean };

/** What a selector resolves to when it fails (distinct from `null`). */
export const NO_VALUE: unique symbol = Symbol("ucan.selector.no-value");

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*/;
const INDEX = /^\[(-?\d+)\]/;
const SLICE = /^\[(-?\d+)?:(-?\d+)?\]/;

function bad(selector: string, why: string): InvalidPolicyError {
  return new InvalidPolicyError(`invalid selector ${JSON.stringify(selector.slice(0, 80))}: ${why}`);
}

function integer(selector: string, text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw bad(selector, `index ${text} is out of range`);
  return n;
}

/** Read a JSON string literal starting at `s[i]` (a `"`); returns the string and the index after it. */
function quoted(selector: string, s: string, i: number): [string, number] {
  let j = i + 1;
  while (j < s.length && s[j] !== '"') j += s[j] === "\\" ? 2 : 1;
  if (j >= s.length) throw bad(selector, "unterminated quoted field name");
  try {
    return [JSON.parse(s.slice(i, j + 1)) as string, j + 1];
  } catch {
    throw bad(selector, "invalid quoted field name");
  }
}

/**
 * Parse `selector` into its segments (empty for `.`), or throw
 * `InvalidPolicyError`.
 *
 * @example
 * ```ts
 * import { parseSelector } from "./selector.ts";
 * parseSelector(".to[-1]?"); // [{ kind: "field", key: "to", … }, { kind: "index", index: -1, optional: true }]
 * ```
 */
export function parseSelector(selector: string): SelectorSegment[] {
  if (typeof selector !== "string") throw new InvalidPolicyError("a selector is a string");
  if (selector.length > MAX_SELECTOR_LENGTH) throw bad(selector, `longer than ${MAX_SELECTOR_LENGTH} characters`);
  if (selector[0] !== ".") throw bad(selector, "a selector starts with .");
  if (selector === ".") return [];
  const segments: SelectorSegment[] = [];
  let i = 0;
  while (i < selector.length) {
    const c = selector[i];
    if (c === "?") {
      const last = segments.pop();
      if (!last) throw bad(selector, "? follows no segment");
      segments.push({ ...last, optional: true });
      i++;
      continue;
    }
    let rest: string;
    if (c === ".") {
      rest = selector.slice(i + 1);
      if (rest[0] !== "[") {
        const ident = IDENT.exec(rest);
        if (!ident) throw bad(selector, `expected a field name or [ after . at ${i}`);
        segments.push({ kind: "field", key: ident[0], optional: false });
        i += 1 + ident[0].length;
        continue;
      }
      i++;
    } else if (c !== "[") {
      throw bad(selector, `unexpected ${JSON.stringify(c)} at ${i}`);
    } else if (i === 0) {
      throw bad(selector, "a selector starts with .");
    }
    rest = selector.slice(i);
    if (rest.startsWith("[]")) {
      segments.push({ kind: "values", optional: false });
      i += 2;
    } else if (rest.startsWith('["')) {
      const [key, end] = quoted(selector, selector, i + 1);
      if (selector[end] !== "]") throw bad(selector, `expected ] at ${end}`);
      segments.push({ kind: "field", key, optional: false });
      i = end + 1;
    } else {
      const index = INDEX.exec(rest);
      if (index) {
        segments.push({ kind: "index", index: integer(selector, index[1]), optional: false });
        i += index[0].length;
        continue;
      }
      const slice = SLICE.exec(rest);
      if (!slice) throw bad(selector, `expected [], ["key"], [index] or [start:end] at ${i}`);
      segments.push({
        kind: "slice",
        start: slice[1] === undefined ? undefined : integer(selector, slice[1]),
        end: slice[2] === undefined ? undefined : integer(selector, slice[2]),
        optional: false,
      });
      i += slice[0].length;
    }
  }
  return segments;
}

function sliceBounds(length: number, start: number | undefined, end: number | undefined): [number, number] {
  const clamp = (n: number) => Math.min(length, Math.max(0, n < 0 ? length + n : n));
  return [start === undefined ? 0 : clamp(start), end === undefined ? length : clamp(end)];
}

function step(segment: SelectorSegment, value: unknown, rest: readonly SelectorSegment[]): unknown {
  switch (segment.kind) {
    case "field":
      if (!isMap(value)) return NO_VALUE;
      return Object.hasOwn(value, segment.key) ? value[segment.key] : null;
    case "index": {
      if (!Array.isArray(value) && !(value instanceof Uint8Array)) return NO_VALUE;
      const at = segment.index < 0 ? value.length + segment.index : segment.index;
      return at >= 0 && at < value.length ? value[at] : NO_VALUE;
    }
    case "slice": {
      if (!Array.isArray(value) && !(value instanceof Uint8Array)) return NO_VALUE;
      const [from, to] = sliceBounds(value.length, segment.start, segment.end);
      return value.slice(from, Math.max(from, to));
    }
    case "values": {
      const items = Array.isArray(value) ? value : isMap(value) ? Object.values(value) : undefined;
      if (!items) return NO_VALUE;
      const out: unknown[] = [];
      for (const item of items) {
        const selected = resolveSegments(rest, item);
        if (selected === NO_VALUE) return NO_VALUE;
        out.push(selected);
      }
      return out;
    }
  }
}

/**
 * Resolve parsed `segments` against `value`: the selected value (`null` for
 * a missing key or a failed optional segment), or `NO_VALUE` when the
 * selection fails. Never throws.
 */
export function resolveSegments(segments: readonly SelectorSegment[], value: unknown): unknown {
  let current = value;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    const rest = segment.kind === "values" ? segments.slice(i + 1) : [];
    let next = step(segment, current, rest);
    if (next === NO_VALUE) {
      if (!segment.optional) return NO_VALUE;
      next = null;
    }
    if (segment.kind === "values") return next;
    current = next;
  }
  return current;
}

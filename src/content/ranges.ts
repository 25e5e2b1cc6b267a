/**
 * Sets of chunk-group indices as sorted, disjoint half-open ranges
 * `[start, end)`. Content transfer speaks in ranges, never in per-block
 * ids: a want, a have and a download's progress are each one `RangeSet`.
 *
 * @module
 */

/** A half-open range of group indices, `[start, end)`. */
export type Range = readonly [start: number, end: number];

/**
 * A mutable set of non-negative integers kept as sorted disjoint ranges.
 *
 * @example
 * ```ts
 * import { RangeSet } from "./ranges.ts";
 * const s = new RangeSet([[0, 4]]);
 * s.add(6, 8);
 * s.delete(1, 2);
 * s.toArray(); // [[0, 1], [2, 4], [6, 8]]
 * s.count; // 5
 * ```
 */
export class RangeSet {
  #r: [number, number][] = [];

  /** A set holding `ranges` (any order, may overlap). */
  constructor(ranges: Iterable<Range> = []) {
    for (const [s, e] of ranges) this.add(s, e);
  }

  /** The set `[0, n)`. */
  static full(n: number): RangeSet {
    return new RangeSet(n > 0 ? [[0, n]] : []);
  }

  /** The ranges, sorted and disjoint (a copy). */
  toArray(): [number, number][] {
    return this.#r.map(([s, e]) => [s, e]);
  }

  /** The ranges, flattened `[s0, e0, s1, e1, …]` (the wire form). */
  toFlat(): number[] {
    return this.#r.flat();
  }

  /** From the flat form; the caller validates (see `messages.ts`). */
  static fromFlat(flat: readonly number[]): RangeSet {
    const s = new RangeSet();
    for (let i = 0; i + 1 < flat.length; i += 2) s.add(flat[i], flat[i + 1]);
    return s;
  }

  /** How many integers the set holds. */
  get count(): number {
    let n = 0;
    for (const [s, e] of this.#r) n += e - s;
    return n;
  }

  /** Number of ranges. */
  get size(): number {
    return this.#r.length;
  }

  /** Whether the set is empty. */
  get empty(): boolean {
    return this.#r.length === 0;
  }

  /** The smallest member, or `undefined`. */
  get first(): number | undefined {
    return this.#r[0]?.[0];
  }

  /** A copy. */
  clone(): RangeSet {
    const c = new RangeSet();
    c.#r = this.toArray();
    return c;
  }

  /** Index of the first range whose end is > x. */
  #find(x: number): number {
    let lo = 0, hi = this.#r.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#r[mid][1] <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Whether `x` is in the set. */
  has(x: number): boolean {
    const i = this.#find(x);
    return i < this.#r.length && this.#r[i][0] <= x;
  }

  /** Whether all of `[start, end)` is in the set. */
  covers(start: number, end: number): boolean {
    if (end <= start) return true;
    const i = this.#find(start);
    return i < this.#r.length && this.#r[i][0] <= start && this.#r[i][1] >= end;
  }

  /** Add `[start, end)`. */
  add(start: number, end: number = start + 1): this {
    if (end <= start) return this;
    let i = this.#find(start - 1);
    if (i > 0 && this.#r[i - 1][1] >= start) i--;
    let s = start, e = end, j = i;
    while (j < this.#r.length && this.#r[j][0] <= e) {
      s = Math.min(s, this.#r[j][0]);
      e = Math.max(e, this.#r[j][1]);
      j++;
    }
    this.#r.splice(i, j - i, [s, e]);
    return this;
  }

  /** Remove `[start, end)`. */
  delete(start: number, end: number = start + 1): this {
    if (end <= start) return this;
    const out: [number, number][] = [];
    for (const [s, e] of this.#r) {
      if (e <= start || s >= end) out.push([s, e]);
      else {
        if (s < start) out.push([s, start]);
        if (e > end) out.push([end, e]);
      }
    }
    this.#r = out;
    return this;
  }

  /** Add every range of `other`. */
  union(other: RangeSet): this {
    for (const [s, e] of other.#r) this.add(s, e);
    return this;
  }

  /** Remove every range of `other`. */
  subtract(other: RangeSet): this {
    for (const [s, e] of other.#r) this.delete(s, e);
    return this;
  }

  /** A new set: the members of both. */
  intersect(other: RangeSet): RangeSet {
    const out = new RangeSet();
    let i = 0, j = 0;
    const a = this.#r, b = other.#r;
    while (i < a.length && j < b.length) {
      const s = Math.max(a[i][0], b[j][0]), e = Math.min(a[i][1], b[j][1]);
      if (s < e) out.#r.push([s, e]);
      if (a[i][1] < b[j][1]) i++;
      else j++;
    }
    return out;
  }

  /** Take up to `n` members from the front, as ranges, removing them. */
  take(n: number): RangeSet {
    const out = new RangeSet();
    while (n > 0 && this.#r.length) {
      const [s, e] = this.#r[0];
      const k = Math.min(n, e - s);
      out.#r.push([s, s + k]);
      n -= k;
      if (s + k === e) this.#r.shift();
      else this.#r[0] = [s + k, e];
    }
    return out;
  }

  /** Take up to `n` members from the back, as ranges, removing them (work stealing takes the tail). */
  takeBack(n: number): RangeSet {
    const out: [number, number][] = [];
    while (n > 0 && this.#r.length) {
      const last = this.#r.length - 1;
      const [s, e] = this.#r[last];
      const k = Math.min(n, e - s);
      out.unshift([e - k, e]);
      n -= k;
      if (e - k === s) this.#r.pop();
      else this.#r[last] = [s, e - k];
    }
    const set = new RangeSet();
    set.#r = out;
    return set;
  }

  /** Every member, in order. */
  *[Symbol.iterator](): IterableIterator<number> {
    for (const [s, e] of this.#r) for (let x = s; x < e; x++) yield x;
  }

  /** A bitfield of `n` bits (bit `i` = member `i`, LSB first), for persistence. */
  toBitfield(n: number): Uint8Array {
    const bits = new Uint8Array(Math.ceil(n / 8));
    for (const [s, e] of this.#r) {
      for (let x = s; x < Math.min(e, n); x++) bits[x >> 3] |= 1 << (x & 7);
    }
    return bits;
  }

  /** From a bitfield of `n` bits. */
  static fromBitfield(bits: Uint8Array, n: number): RangeSet {
    const out = new RangeSet();
    let start = -1;
    for (let x = 0; x < n; x++) {
      const on = ((bits[x >> 3] ?? 0) >> (x & 7) & 1) === 1;
      if (on && start < 0) start = x;
      if (!on && start >= 0) {
        out.#r.push([start, x]);
        start = -1;
      }
    }
    if (start >= 0) out.#r.push([start, n]);
    return out;
  }
}

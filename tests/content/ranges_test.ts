/**
 * RangeSet: unit tests, and a property loop of random operations checked
 * against a plain `Set<number>` after every step (members, count, ranges
 * sorted, disjoint and never touching).
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { rng } from "../helpers/mutate.ts";
import { RangeSet } from "../../src/content/ranges.ts";

Deno.test("ranges: add merges overlapping and touching ranges", () => {
  const s = new RangeSet();
  assert(s.empty);
  assertEquals(s.first, undefined);
  s.add(10, 20).add(30, 40);
  assertEquals(s.toArray(), [[10, 20], [30, 40]]);
  s.add(20, 30); // touches both
  assertEquals(s.toArray(), [[10, 40]]);
  s.add(5, 12).add(39, 45).add(50);
  assertEquals(s.toArray(), [[5, 45], [50, 51]]);
  s.add(7, 7).add(9, 3); // empty ranges are no-ops
  assertEquals(s.toArray(), [[5, 45], [50, 51]]);
  s.add(0, 100);
  assertEquals(s.toArray(), [[0, 100]]);
  assertEquals(new RangeSet([[8, 9], [0, 2], [1, 3], [3, 4]]).toArray(), [[0, 4], [8, 9]]);
});

Deno.test("ranges: delete splits, trims and removes", () => {
  const s = RangeSet.full(10);
  s.delete(3, 5);
  assertEquals(s.toArray(), [[0, 3], [5, 10]]);
  s.delete(0);
  assertEquals(s.toArray(), [[1, 3], [5, 10]]);
  s.delete(2, 8);
  assertEquals(s.toArray(), [[1, 2], [8, 10]]);
  s.delete(5, 5).delete(9, 1);
  assertEquals(s.toArray(), [[1, 2], [8, 10]]);
  s.delete(0, 100);
  assert(s.empty);
  assertEquals(RangeSet.full(0).toArray(), []);
});

Deno.test("ranges: has, covers, count, size, first, iteration", () => {
  const s = new RangeSet([[2, 5], [8, 9]]);
  assertEquals([0, 1, 2, 4, 5, 7, 8, 9].map((x) => s.has(x)), [false, false, true, true, false, false, true, false]);
  assert(s.covers(2, 5));
  assert(s.covers(3, 4));
  assert(!s.covers(2, 6));
  assert(!s.covers(4, 9));
  assert(s.covers(7, 7)); // empty range
  assertEquals(s.count, 4);
  assertEquals(s.size, 2);
  assertEquals(s.first, 2);
  assertEquals([...s], [2, 3, 4, 8]);
});

Deno.test("ranges: union, subtract, intersect", () => {
  const a = new RangeSet([[0, 10], [20, 30]]);
  const b = new RangeSet([[5, 25], [40, 41]]);
  assertEquals(a.clone().union(b).toArray(), [[0, 30], [40, 41]]);
  assertEquals(a.clone().subtract(b).toArray(), [[0, 5], [25, 30]]);
  assertEquals(a.intersect(b).toArray(), [[5, 10], [20, 25]]);
  assertEquals(b.intersect(a).toArray(), [[5, 10], [20, 25]]);
  assertEquals(a.intersect(new RangeSet()).toArray(), []);
  // The originals are untouched by intersect and clone.
  assertEquals(a.toArray(), [[0, 10], [20, 30]]);
  const c = a.clone();
  c.add(10, 20);
  assertEquals(a.toArray(), [[0, 10], [20, 30]]);
});

Deno.test("ranges: take from the front and takeBack from the back", () => {
  const s = new RangeSet([[0, 3], [5, 10], [20, 22]]);
  assertEquals(s.take(4).toArray(), [[0, 3], [5, 6]]);
  assertEquals(s.toArray(), [[6, 10], [20, 22]]);
  assertEquals(s.takeBack(3).toArray(), [[9, 10], [20, 22]]);
  assertEquals(s.toArray(), [[6, 9]]);
  assertEquals(s.take(0).toArray(), []);
  assertEquals(s.take(100).toArray(), [[6, 9]]);
  assert(s.empty);
  assertEquals(s.takeBack(5).toArray(), []);
});

Deno.test("ranges: flat and bitfield forms round trip", () => {
  const s = new RangeSet([[0, 1], [7, 9], [15, 17], [63, 64]]);
  assertEquals(s.toFlat(), [0, 1, 7, 9, 15, 17, 63, 64]);
  assertEquals(RangeSet.fromFlat(s.toFlat()).toArray(), s.toArray());
  const bits = s.toBitfield(64);
  assertEquals(bits.length, 8);
  assertEquals(Array.from(bits), [0x81, 0x81, 0x01, 0, 0, 0, 0, 0x80]);
  assertEquals(RangeSet.fromBitfield(bits, 64).toArray(), s.toArray());
  // Bits past n are neither written nor read.
  assertEquals(Array.from(s.toBitfield(10)), [0x81, 0x01]);
  assertEquals(RangeSet.fromBitfield(new Uint8Array([0xff, 0xff]), 11).toArray(), [[0, 11]]);
  // A short bitfield reads as absent past its end.
  assertEquals(RangeSet.fromBitfield(new Uint8Array([0x80]), 20).toArray(), [[7, 8]]);
  assertEquals(RangeSet.fromBitfield(new Uint8Array(0), 0).toArray(), []);
});

/** Ranges must be sorted, non-empty, disjoint and not touching. */
function checkShape(s: RangeSet, what: string): void {
  const r = s.toArray();
  for (let i = 0; i < r.length; i++) {
    assert(r[i][0] < r[i][1], `${what}: empty range ${r[i]}`);
    if (i > 0) assert(r[i - 1][1] < r[i][0], `${what}: ranges ${r[i - 1]} and ${r[i]} touch or overlap`);
  }
}

function members(s: RangeSet): number[] {
  return [...s];
}

function sorted(set: Set<number>): number[] {
  return [...set].sort((a, b) => a - b);
}

Deno.test("ranges: property loop — 12,000 random operations against a reference Set<number>", () => {
  const U = 160;
  const r = rng(1212);
  const pick = (n: number) => Math.floor(r() * n);
  const randomRange = (): [number, number] => {
    const s = pick(U);
    return [s, s + pick(r() < 0.7 ? 8 : 40)];
  };
  const randomSet = (): [RangeSet, Set<number>] => {
    const rs = new RangeSet(), ref = new Set<number>();
    for (let k = pick(5); k > 0; k--) {
      const [s, e] = randomRange();
      rs.add(s, e);
      for (let x = s; x < e; x++) ref.add(x);
    }
    return [rs, ref];
  };
  let set = new RangeSet();
  let ref = new Set<number>();
  const ops = 12_000;
  for (let i = 0; i < ops; i++) {
    const op = pick(11);
    const [s, e] = randomRange();
    switch (op) {
      case 0:
      case 1:
        set.add(s, e);
        for (let x = s; x < e; x++) ref.add(x);
        break;
      case 2:
      case 3:
        set.delete(s, e);
        for (let x = s; x < e; x++) ref.delete(x);
        break;
      case 4: {
        const [o, oref] = randomSet();
        set.union(o);
        for (const x of oref) ref.add(x);
        break;
      }
      case 5: {
        const [o, oref] = randomSet();
        set.subtract(o);
        for (const x of oref) ref.delete(x);
        break;
      }
      case 6: {
        const [o, oref] = randomSet();
        const got = set.intersect(o);
        checkShape(got, "intersect");
        assertEquals(members(got), sorted(ref).filter((x) => oref.has(x)), `op ${i} intersect`);
        if (r() < 0.3) {
          set = got;
          ref = new Set(members(got));
        }
        break;
      }
      case 7: {
        const n = pick(20);
        const want = sorted(ref).slice(0, n);
        const got = set.take(n);
        checkShape(got, "take");
        assertEquals(members(got), want, `op ${i} take ${n}`);
        for (const x of want) ref.delete(x);
        break;
      }
      case 8: {
        const n = pick(20);
        const all = sorted(ref);
        const want = all.slice(Math.max(0, all.length - n));
        const got = set.takeBack(n);
        checkShape(got, "takeBack");
        assertEquals(members(got), want, `op ${i} takeBack ${n}`);
        for (const x of want) ref.delete(x);
        break;
      }
      case 9: {
        const n = pick(U + 20);
        const back = RangeSet.fromBitfield(set.toBitfield(n), n);
        assertEquals(members(back), sorted(ref).filter((x) => x < n), `op ${i} bitfield ${n}`);
        const flat = RangeSet.fromFlat(set.toFlat());
        assertEquals(flat.toArray(), set.toArray());
        break;
      }
      default: {
        const copy = set.clone();
        copy.add(s, e);
        assertEquals(members(set), sorted(ref), "clone must not share state");
      }
    }
    checkShape(set, `op ${i} (${op})`);
    assertEquals(set.count, ref.size, `op ${i} count`);
    const x = pick(U + 10);
    assertEquals(set.has(x), ref.has(x), `op ${i} has ${x}`);
    let covered = true;
    for (let y = s; y < e; y++) covered &&= ref.has(y);
    assertEquals(set.covers(s, e), covered, `op ${i} covers ${s}..${e}`);
    if (i % 16 === 0) {
      assertEquals(members(set), sorted(ref), `op ${i} members`);
      assertEquals(set.first, ref.size ? Math.min(...ref) : undefined);
    }
  }
});

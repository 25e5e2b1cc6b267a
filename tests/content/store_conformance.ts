/**
 * What every `ContentStore` must do, as Deno tests: `storeConformance(name,
 * make)` registers them for one implementation. `make` returns a fresh,
 * empty, NOT yet opened store (with the quota asked for, if any); each test
 * opens it and closes it.
 */
import { ContentVerificationError, QuotaExceededError } from "../../src/content/errors.ts";
import { HASH_LENGTH } from "../../src/content/hash.ts";
import { Mcid } from "../../src/content/mcid.ts";
import { RangeSet } from "../../src/content/ranges.ts";
import type { ContentStore } from "../../src/content/store.ts";
import { GROUP_SIZE, groupCount, groupLength, hashBytes } from "../../src/content/tree.ts";
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";

/** Options `make` may be asked for. */
export interface MakeStoreOptions {
  /** Quota, bytes. */
  quota?: number;
}

/** Deterministic pseudo-random bytes (xorshift32). */
export function randomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed | 0) || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Whether two byte arrays are equal (fast enough for megabytes). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `bytes` as a stream of chunks of `chunk` bytes. */
export function streamOf(bytes: Uint8Array, chunk = 65536): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream({
    pull(controller) {
      if (off >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(off, off + chunk));
      off += chunk;
    },
  });
}

/** The group `index` of `bytes`. */
export function group(bytes: Uint8Array, index: number): Uint8Array {
  return bytes.subarray(index * GROUP_SIZE, index * GROUP_SIZE + groupLength(index, bytes.length));
}

const BOUNDARY_SIZES = [0, 1, GROUP_SIZE - 1, GROUP_SIZE, GROUP_SIZE + 1, 3 * GROUP_SIZE + 7, 200_000];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Register the conformance tests of a `ContentStore` implementation.
 * `make` gives a new empty store, not opened.
 */
export function storeConformance(
  name: string,
  make: (options: MakeStoreOptions) => Promise<ContentStore>,
): void {
  const test = (title: string, fn: (open: (o?: MakeStoreOptions) => Promise<ContentStore>) => Promise<void>) =>
    Deno.test(`${name}: ${title}`, async () => {
      const opened: ContentStore[] = [];
      try {
        await fn(async (o = {}) => {
          const store = await make(o);
          await store.open();
          opened.push(store);
          return store;
        });
      } finally {
        for (const s of opened) await s.close();
      }
    });

  test("put, get, list and reader at the boundary sizes, both codecs", async (open) => {
    const store = await open();
    for (const codec of ["blake3", "sha256"] as const) {
      for (const [i, size] of BOUNDARY_SIZES.entries()) {
        const data = randomBytes(size, 1000 + i);
        const expected = await hashBytes(data, codec);
        const stored = await store.put(streamOf(data, 5000), { codec });
        assert(stored.mcid.equals(expected.mcid), `${codec} ${size}: mcid`);
        assertEquals(stored.complete, true);
        assertEquals(stored.bytes, size);
        assertEquals(stored.pinned, false);
        const got = store.get(Mcid.parse(expected.mcid.toString()));
        assert(got?.complete && got.bytes === size, `${codec} ${size}: get`);
        const reader = await store.reader(expected.mcid);
        assert(reader, `${codec} ${size}: reader`);
        try {
          assert(reader.mcid.equals(expected.mcid));
          assert(reader.leaves && sameBytes(reader.leaves, expected.leaves), `${codec} ${size}: leaves`);
          assertEquals(reader.have().toArray(), [[0, groupCount(size)]]);
          assert(sameBytes(await reader.read(0, size), data), `${codec} ${size}: whole content`);
          assertEquals((await reader.read(size, 0)).length, 0);
          for (let k = 0; k < 20 && size > 0; k++) {
            const off = Math.floor(Math.random() * size);
            const len = Math.floor(Math.random() * (size - off + 1));
            assert(sameBytes(await reader.read(off, len), data.subarray(off, off + len)), `range ${off}+${len}`);
          }
          await assertRejects(() => reader.read(size, 1));
          await assertRejects(() => reader.read(-1, 1));
        } finally {
          await reader.close();
        }
      }
    }
    assertEquals(store.list().length, 2 * BOUNDARY_SIZES.length);
    assertEquals(store.used(), 2 * BOUNDARY_SIZES.reduce((a, b) => a + b, 0));
  });

  test("put from an async iterable of odd chunks; the same content twice is one entry", async (open) => {
    const store = await open();
    const data = randomBytes(3 * GROUP_SIZE + 100, 7);
    async function* pieces() {
      let off = 0;
      for (let n = 1; off < data.length; n = (n * 7 + 3) % 20011) {
        yield data.slice(off, off + n);
        off += n;
      }
    }
    const a = await store.put(pieces());
    const b = await store.put(streamOf(data), { pin: true });
    assert(a.mcid.equals(b.mcid) && a.mcid.equals((await hashBytes(data)).mcid));
    assertEquals(b.pinned, true, "putting again with pin pins");
    assertEquals(store.list().length, 1);
    assertEquals(store.used(), data.length);
  });

  test("unknown content: get, reader, pin and remove say so", async (open) => {
    const store = await open();
    const { mcid } = await hashBytes(randomBytes(10, 1));
    assertEquals(store.get(mcid), undefined);
    assertEquals(await store.reader(mcid), undefined);
    assertEquals(await store.pin(mcid, true), false);
    assertEquals(await store.remove(mcid), false);
    assertEquals(store.list(), []);
  });

  test("writer: leaves are checked, groups out of order, partial reads, resume, complete", async (open) => {
    const store = await open();
    const data = randomBytes(5 * GROUP_SIZE + 3, 42);
    const { mcid, leaves } = await hashBytes(data);
    const n = groupCount(data.length);
    const w = await store.writer(mcid);
    assertEquals(w.leaves(), undefined);
    assert(w.have().empty);
    await assertRejects(() => w.writeGroup(0, group(data, 0)), undefined, undefined, "no group before leaves");
    const bad = leaves.slice();
    bad[5] ^= 1;
    await assertRejects(() => w.setLeaves(bad), ContentVerificationError);
    await assertRejects(() => w.setLeaves(leaves.subarray(HASH_LENGTH)), ContentVerificationError);
    await w.setLeaves(leaves);
    assert(sameBytes(w.leaves()!, leaves));
    await w.writeGroup(4, group(data, 4));
    await w.writeGroup(1, group(data, 1));
    await assertRejects(() => w.writeGroup(2, group(data, 2).subarray(1)), undefined, undefined, "short group");
    await assertRejects(() => w.writeGroup(n, new Uint8Array(0)), undefined, undefined, "index past the end");
    await assertRejects(() => w.writeGroup(-1, group(data, 0)), undefined, undefined, "negative index");
    assertEquals(w.have().toArray(), [[1, 2], [4, 5]]);
    await w.flush();
    const partial = store.get(mcid)!;
    assertEquals(partial.complete, false);
    assertEquals(partial.bytes, 2 * GROUP_SIZE);
    assertEquals(store.used(), data.length, "a writer reserves the whole size");
    await assertRejects(() => w.complete(), undefined, undefined, "complete with groups missing");
    await assertRejects(() => store.writer(mcid), undefined, undefined, "one writer at a time");

    const r = (await store.reader(mcid))!;
    assertEquals(r.have().toArray(), [[1, 2], [4, 5]]);
    assert(sameBytes(await r.read(GROUP_SIZE + 10, 100), data.subarray(GROUP_SIZE + 10, GROUP_SIZE + 110)));
    assert(sameBytes(await r.read(4 * GROUP_SIZE, GROUP_SIZE), group(data, 4)));
    await assertRejects(() => r.read(0, 10), undefined, undefined, "absent group");
    await assertRejects(() => r.read(GROUP_SIZE, GROUP_SIZE + 1), undefined, undefined, "runs into an absent group");
    await r.close();
    await w.close();

    const resumed = await store.writer(mcid);
    assert(sameBytes(resumed.leaves()!, leaves), "resume: leaves");
    assertEquals(resumed.have().toArray(), [[1, 2], [4, 5]], "resume: have");
    for (const i of new RangeSet([[0, n]]).subtract(resumed.have())) await resumed.writeGroup(i, group(data, i));
    const done = await resumed.complete();
    assertEquals(done.complete, true);
    assertEquals(done.bytes, data.length);
    await resumed.close();
    assert(store.get(mcid)?.complete);
    const full = (await store.reader(mcid))!;
    assert(sameBytes(await full.read(0, data.length), data));
    await full.close();

    const again = await store.writer(mcid);
    assertEquals(again.have().toArray(), [[0, n]], "a writer of complete content has everything");
    assertEquals((await again.complete()).complete, true);
    await again.close();
  });

  test("writer at the boundary sizes", async (open) => {
    const store = await open();
    for (const [i, size] of BOUNDARY_SIZES.entries()) {
      const data = randomBytes(size, 77 + i);
      const { mcid, leaves } = await hashBytes(data, "sha256");
      const w = await store.writer(mcid);
      await w.setLeaves(leaves);
      for (let g = groupCount(size) - 1; g >= 0; g--) await w.writeGroup(g, group(data, g));
      const done = await w.complete();
      await w.close();
      assertEquals(done.bytes, size);
      const r = (await store.reader(mcid))!;
      assert(sameBytes(await r.read(0, size), data), `size ${size}`);
      await r.close();
    }
  });

  test("writer: groups written concurrently, in runs and twice; readers see only written groups", async (open) => {
    const store = await open();
    const data = randomBytes(40 * GROUP_SIZE + 99, 5);
    const { mcid, leaves } = await hashBytes(data);
    const n = groupCount(data.length);
    const w = await store.writer(mcid);
    await w.setLeaves(leaves);
    const order = [...Array(n).keys()].filter((g) => g % 10 < 7); // runs of 7 with gaps
    await Promise.all([...order, 3, 4, 22].map((g) => w.writeGroup(g, group(data, g))));
    const expected = new RangeSet(order.map((g) => [g, g + 1] as const));
    assertEquals(w.have().toArray(), expected.toArray());
    await w.flush();
    const r = (await store.reader(mcid))!;
    assertEquals(r.have().toArray(), expected.toArray());
    for (const [s, e] of expected.toArray()) {
      const end = Math.min(e * GROUP_SIZE, data.length);
      assert(sameBytes(await r.read(s * GROUP_SIZE, end - s * GROUP_SIZE), data.subarray(s * GROUP_SIZE, end)));
    }
    await r.close();
    const rest = RangeSet.full(n).subtract(w.have());
    await Promise.all([...rest].reverse().map((g) => w.writeGroup(g, group(data, g))));
    await w.complete();
    await w.close();
    const full = (await store.reader(mcid))!;
    assert(sameBytes(await full.read(0, data.length), data));
    await full.close();
  });

  test("pin, unpin and remove", async (open) => {
    const store = await open();
    const a = await store.put(streamOf(randomBytes(1000, 1)));
    const b = await store.put(streamOf(randomBytes(2000, 2)), { pin: true });
    assertEquals(store.get(b.mcid)?.pinned, true);
    assertEquals(await store.pin(a.mcid, true), true);
    assertEquals(store.get(a.mcid)?.pinned, true);
    assertEquals(await store.pin(a.mcid, false), true);
    assertEquals(store.get(a.mcid)?.pinned, false);
    assertEquals(await store.remove(b.mcid), true, "pinned content can be removed");
    assertEquals(await store.remove(b.mcid), false);
    assertEquals(store.get(b.mcid), undefined);
    assertEquals(await store.reader(b.mcid), undefined);
    assertEquals(store.used(), 1000);
    const { mcid } = await hashBytes(randomBytes(5000, 3));
    const w = await store.writer(mcid);
    await w.close();
    assertEquals(store.used(), 6000);
    assertEquals(await store.remove(mcid), true, "a partial entry can be removed");
    assertEquals(store.used(), 1000);
    assertEquals(store.list().map((e) => e.mcid.toString()), [a.mcid.toString()]);
  });

  test("quota: least recently used unpinned content goes first; pinned and open content stays", async (open) => {
    const store = await open({ quota: 100_000 });
    assertEquals(store.quota, 100_000);
    const a = await store.put(streamOf(randomBytes(30_000, 1)));
    await sleep(5);
    const b = await store.put(streamOf(randomBytes(30_000, 2)));
    await sleep(5);
    const c = await store.put(streamOf(randomBytes(30_000, 3)));
    await sleep(5);
    const ra = (await store.reader(a.mcid))!; // a is now the most recently used
    await ra.close();
    await sleep(5);
    const d = await store.put(streamOf(randomBytes(30_000, 4)));
    assertEquals(store.get(b.mcid), undefined, "b was the least recently used");
    assert(store.get(a.mcid) && store.get(c.mcid) && store.get(d.mcid));
    assert(store.used() <= store.quota);

    await store.pin(c.mcid, true);
    const rd = (await store.reader(d.mcid))!; // open: not evictable
    await sleep(5);
    const e = await store.put(streamOf(randomBytes(30_000, 5)));
    assertEquals(store.get(a.mcid), undefined, "a went: c is pinned, d is being read");
    assert(store.get(c.mcid) && store.get(d.mcid) && store.get(e.mcid));
    await rd.close();

    await store.pin(d.mcid, true);
    await store.pin(e.mcid, true);
    const before = store.list().length;
    await assertRejects(() => store.put(streamOf(randomBytes(30_000, 6))), QuotaExceededError);
    assertEquals(store.list().length, before, "nothing evicted for a put that cannot fit");
    await store.pin(e.mcid, false);
    await store.put(streamOf(randomBytes(30_000, 6)));
    assertEquals(store.get(e.mcid), undefined);
    assert(store.used() <= store.quota);
  });

  test("quota: a put larger than the quota fails and evicts nothing; a writer reserves its size", async (open) => {
    const store = await open({ quota: 100_000 });
    const a = await store.put(streamOf(randomBytes(40_000, 1)));
    await assertRejects(() => store.put(streamOf(randomBytes(100_001, 2))), QuotaExceededError);
    assert(store.get(a.mcid), "nothing evicted");
    const big = await hashBytes(randomBytes(100_001, 3));
    await assertRejects(() => store.writer(big.mcid), QuotaExceededError);
    assert(store.get(a.mcid), "nothing evicted");
    assertEquals(store.get(big.mcid), undefined);

    const sized = await hashBytes(randomBytes(70_000, 4));
    const w = await store.writer(sized.mcid);
    assertEquals(store.get(a.mcid), undefined, "the writer's reservation evicted a");
    assertEquals(store.used(), 70_000);
    await assertRejects(
      () => store.put(streamOf(randomBytes(40_000, 5))),
      QuotaExceededError,
      undefined,
      "open writer",
    );
    await w.close();
    await store.put(streamOf(randomBytes(40_000, 5)));
    assertEquals(store.get(sized.mcid), undefined, "an idle partial entry is evictable");
    assertEquals(store.used(), 40_000);
  });

  test("a put of content with a partial entry completes it", async (open) => {
    const store = await open();
    const data = randomBytes(3 * GROUP_SIZE, 9);
    const { mcid, leaves } = await hashBytes(data);
    const w = await store.writer(mcid);
    await w.setLeaves(leaves);
    await w.writeGroup(0, group(data, 0));
    await w.close();
    const stored = await store.put(streamOf(data));
    assert(stored.complete && stored.mcid.equals(mcid));
    assertEquals(store.list().length, 1);
    assertEquals(store.used(), data.length);
    const r = (await store.reader(mcid))!;
    assert(sameBytes(await r.read(0, data.length), data));
    await r.close();
  });
}

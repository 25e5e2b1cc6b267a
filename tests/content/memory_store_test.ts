/**
 * `MemoryContentStore`: put and read back, writers (leaves checked, resume,
 * one at a time, complete only when whole), quota with least-recently-used
 * eviction of unpinned entries, pins, remove — and the shared store
 * conformance suite.
 */
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { ContentVerificationError, QuotaExceededError } from "../../src/content/errors.ts";
import { ContentStoreError, MemoryContentStore } from "../../src/content/memory-store.ts";
import { GROUP_SIZE, groupCount, hashBytes } from "../../src/content/tree.ts";
import { randomBytes } from "./helpers/swarm.ts";
import { storeConformance } from "./store_conformance.ts";

storeConformance("MemoryContentStore", (o) => Promise.resolve(new MemoryContentStore(o)));

const put = (store: MemoryContentStore, bytes: Uint8Array, pin = false) =>
  store.put(ReadableStream.from([bytes.subarray(0, 1000), bytes.subarray(1000)]), { pin });

Deno.test("memory store: put, then read any range back; the MCID is the content's", async () => {
  const store = new MemoryContentStore();
  await store.open();
  for (const size of [0, 1, GROUP_SIZE, GROUP_SIZE + 1, 200_000]) {
    const data = randomBytes(size);
    const entry = await put(store, data);
    const { mcid } = await hashBytes(data);
    assert(entry.mcid.equals(mcid) && entry.complete && entry.bytes === size);
    const r = (await store.reader(mcid))!;
    assertEquals(r.have().count, groupCount(size));
    assertEquals(r.leaves?.length, groupCount(size) * 32);
    assertEquals(await r.read(0, size), data);
    if (size > 10) assertEquals(await r.read(5, 7), data.subarray(5, 12));
    await assertRejects(() => r.read(size, 1), RangeError);
    await r.close();
  }
  assertEquals(store.list().length, 5);
  const sha = await store.put(ReadableStream.from([Uint8Array.of(1, 2, 3)]), { codec: "sha256" });
  assertEquals(sha.mcid.codec, "sha256");
});

Deno.test("memory store: a writer checks leaves, resumes, completes only when whole", async () => {
  const store = new MemoryContentStore();
  const data = randomBytes(5 * GROUP_SIZE + 3);
  const { mcid, leaves } = await hashBytes(data);
  const group = (i: number) => data.subarray(i * GROUP_SIZE, Math.min(data.length, (i + 1) * GROUP_SIZE));
  let w = await store.writer(mcid);
  await assertRejects(() => store.writer(mcid), ContentStoreError, "already has a writer");
  const wrong = leaves.slice();
  wrong[0] ^= 1;
  await assertRejects(() => w.setLeaves(wrong), ContentVerificationError);
  assertEquals(w.leaves(), undefined);
  await w.setLeaves(leaves);
  await w.writeGroup(1, group(1));
  await w.writeGroup(5, group(5));
  await assertRejects(() => w.writeGroup(6, new Uint8Array(0)), ContentStoreError);
  await assertRejects(() => w.writeGroup(2, new Uint8Array(10)), ContentStoreError);
  await assertRejects(() => w.complete(), ContentStoreError, "incomplete");
  await w.close();
  const partial = store.get(mcid)!;
  assert(!partial.complete);
  assertEquals(partial.bytes, GROUP_SIZE + 3);
  // A reader of the partial entry reads only present groups.
  const r = (await store.reader(mcid))!;
  assertEquals(await r.read(GROUP_SIZE, GROUP_SIZE), group(1));
  await assertRejects(() => r.read(0, 10));
  // Resume.
  w = await store.writer(mcid);
  assertEquals(w.have().toArray(), [[1, 2], [5, 6]]);
  assertEquals(w.leaves(), leaves);
  for (const i of [0, 2, 3, 4]) await w.writeGroup(i, group(i));
  const done = await w.complete();
  await w.close();
  assert(done.complete);
  assertEquals(await (await store.reader(mcid))!.read(0, data.length), data);
});

Deno.test("memory store: the quota evicts unpinned entries least recently used first", async () => {
  const store = new MemoryContentStore({ quota: 300_000 });
  const a = await put(store, randomBytes(100_000));
  const b = await put(store, randomBytes(100_000), true);
  const c = await put(store, randomBytes(100_000));
  assertEquals(store.used(), 300_000);
  await (await store.reader(a.mcid))!.close(); // a is now more recent than c
  const d = await put(store, randomBytes(100_000));
  assert(store.get(c.mcid) === undefined, "c (least recently used, unpinned) was evicted");
  assert(store.get(a.mcid) && store.get(b.mcid) && store.get(d.mcid));
  // Too big even after evicting every unpinned entry.
  await assertRejects(() => put(store, randomBytes(300_001)), QuotaExceededError);
  await store.pin(a.mcid, true);
  await store.pin(d.mcid, true);
  await assertRejects(() => put(store, randomBytes(10)), QuotaExceededError);
  const { mcid } = await hashBytes(randomBytes(1000));
  await assertRejects(() => store.writer(mcid), QuotaExceededError);
  await store.pin(d.mcid, false);
  const w = await store.writer(mcid); // reserves its size, evicting d
  assert(store.get(d.mcid) === undefined);
  assertEquals(store.used(), 201_000);
  await w.close();
  assertEquals(await store.pin(d.mcid, true), false, "no such entry");
});

Deno.test("memory store: an entry being written is never evicted; remove drops any entry", async () => {
  const store = new MemoryContentStore({ quota: 250_000 });
  const { mcid } = await hashBytes(randomBytes(150_000));
  const w = await store.writer(mcid);
  await assertRejects(() => put(store, randomBytes(150_000)), QuotaExceededError);
  await w.close();
  const e = await put(store, randomBytes(150_000));
  assert(store.get(mcid) === undefined, "the partial entry went once its writer closed");
  assertEquals(await store.remove(e.mcid), true);
  assertEquals(await store.remove(e.mcid), false);
  assertEquals(store.used(), 0);
  assertEquals(await store.reader(e.mcid), undefined);
});

Deno.test("memory store: putting content already present keeps one entry (and can pin it)", async () => {
  const store = new MemoryContentStore();
  const data = randomBytes(40_000);
  const first = await put(store, data);
  const again = await put(store, data, true);
  assert(first.mcid.equals(again.mcid) && again.pinned);
  assertEquals(store.list().length, 1);
  assertEquals(store.used(), 40_000);
});

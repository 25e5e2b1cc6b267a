/**
 * FsContentStore: the conformance suite, then what only a disk store must do
 * (reopen, crash safety under SIGKILL, leftover cleanup, sparse multi-GiB
 * partial entries, bounded memory for 1 GiB).
 */
import { FsContentStore } from "../../src/content/fs-store.ts";
import {
  decodeHave,
  decodeMeta,
  encodeHave,
  encodeMeta,
  entryFileName,
  isTempFileName,
  parseEntryFileName,
} from "../../src/content/fs-store-files.ts";
import { loadHasher } from "../../src/content/hash.ts";
import { Mcid } from "../../src/content/mcid.ts";
import { RangeSet } from "../../src/content/ranges.ts";
import { ContentStoreError } from "../../src/content/store-errors.ts";
import { GROUP_SIZE, groupCount, groupMatches, hashBytes, rootOf } from "../../src/content/tree.ts";
import { currentPlatform } from "../../src/platform/current.ts";
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { group, randomBytes, sameBytes, storeConformance, streamOf } from "./store_conformance.ts";

const fs = currentPlatform().fs;
const base = await Deno.makeTempDir({ prefix: "macula-fs-store-" });
let dirs = 0;
const newDir = () => `${base}/s${dirs++}`;
const CHILD = new URL("./store_crash_child.ts", import.meta.url).pathname;

storeConformance("FsContentStore", (o) => Promise.resolve(new FsContentStore(fs, newDir(), o)));

async function names(dir: string): Promise<string[]> {
  return ((await fs.readDir(dir)) ?? []).sort();
}

Deno.test("FsContentStore: reopen keeps complete and partial entries, pins, leaves, have-sets and lastUsed", async () => {
  const dir = newDir();
  let t = 1_000_000;
  const now = () => t;
  const s1 = new FsContentStore(fs, dir, { now, quota: 10_000_000 });
  await s1.open();
  const a = randomBytes(100_000, 1), b = randomBytes(3 * GROUP_SIZE + 5, 2);
  const ea = await s1.put(streamOf(a), { pin: true });
  t += 1000;
  const hb = await hashBytes(b, "sha256");
  const w = await s1.writer(hb.mcid);
  await w.setLeaves(hb.leaves);
  await w.writeGroup(3, group(b, 3));
  await w.writeGroup(0, group(b, 0));
  await w.close();
  t += 1000;
  const r = (await s1.reader(ea.mcid))!; // lastUsed updated in memory only
  await r.close();
  await s1.close();

  const s2 = new FsContentStore(fs, dir, { now, quota: 10_000_000 });
  await s2.open();
  const ga = s2.get(ea.mcid)!;
  assert(ga.complete && ga.pinned && ga.bytes === a.length);
  assertEquals(ga.lastUsed, 1_002_000, "batched lastUsed written at close");
  const gb = s2.get(hb.mcid)!;
  assertEquals(gb.complete, false);
  assertEquals(gb.bytes, GROUP_SIZE + 5);
  assertEquals(s2.used(), a.length + b.length);
  const w2 = await s2.writer(hb.mcid);
  assertEquals(w2.have().toArray(), [[0, 1], [3, 4]]);
  assert(sameBytes(w2.leaves()!, hb.leaves));
  await w2.writeGroup(1, group(b, 1));
  await w2.writeGroup(2, group(b, 2));
  await w2.complete();
  const rb = (await s2.reader(hb.mcid))!;
  assert(sameBytes(await rb.read(0, b.length), b));
  await rb.close();
  await s2.close();
  assertEquals(
    await names(dir),
    [
      entryFileName(ea.mcid.toString(), "data"),
      entryFileName(ea.mcid.toString(), "leaves"),
      entryFileName(ea.mcid.toString(), "meta"),
      entryFileName(hb.mcid.toString(), "data"),
      entryFileName(hb.mcid.toString(), "leaves"),
      entryFileName(hb.mcid.toString(), "meta"),
    ].sort(),
    "no have-set or part file once complete",
  );
});

Deno.test("FsContentStore: the have-set on disk only covers flushed groups", async () => {
  const dir = newDir();
  const s1 = new FsContentStore(fs, dir);
  await s1.open();
  const data = randomBytes(8 * GROUP_SIZE, 3);
  const { mcid, leaves } = await hashBytes(data);
  const w = await s1.writer(mcid);
  await w.setLeaves(leaves);
  await w.writeGroup(0, group(data, 0));
  await w.writeGroup(1, group(data, 1));
  await w.flush();
  await w.writeGroup(5, group(data, 5)); // not flushed: a crash now must not mark it
  // A second store on the same directory sees what a restart after a crash would.
  const s2 = new FsContentStore(fs, dir);
  await s2.open();
  assertEquals(s2.get(mcid)?.bytes, 2 * GROUP_SIZE);
  await s2.close();
  await w.flush();
  const s3 = new FsContentStore(fs, dir);
  await s3.open();
  assertEquals(s3.get(mcid)?.bytes, 3 * GROUP_SIZE);
  await s3.close();
  await s1.close();
});

Deno.test("FsContentStore: open removes temp files, orphans and stale files, and repairs bad ones", async () => {
  const dir = newDir();
  const s1 = new FsContentStore(fs, dir);
  await s1.open();
  const a = randomBytes(50_000, 4), b = randomBytes(20_000, 5), c = randomBytes(30_000, 6);
  const ea = await s1.put(streamOf(a), { pin: true });
  const eb = await s1.put(streamOf(b));
  const ec = await s1.put(streamOf(c));
  const hd = await hashBytes(randomBytes(40_000, 7));
  const wd = await s1.writer(hd.mcid);
  await wd.setLeaves(hd.leaves);
  await wd.close();
  await s1.close();

  const write = (name: string, bytes: Uint8Array) => Deno.writeFile(`${dir}/${name}`, bytes);
  const orphan = (await hashBytes(randomBytes(10, 8))).mcid.toString();
  await write("put-0b7e4c1a-1111-4222-8333-944445555666.tmp", new Uint8Array(100));
  await write(`${entryFileName(ea.mcid.toString(), "meta")}.tmp-abc`, new Uint8Array(3));
  await write(entryFileName(orphan, "meta"), encodeMeta({ pinned: true, lastUsed: 1 }));
  await write(entryFileName(orphan, "leaves"), new Uint8Array(32));
  await write(entryFileName(ea.mcid.toString(), "have"), new Uint8Array(1)); // stale next to complete data
  await write(entryFileName(ea.mcid.toString(), "meta"), new TextEncoder().encode("{torn"));
  await Deno.remove(`${dir}/${entryFileName(eb.mcid.toString(), "leaves")}`); // rebuilt from the data
  await Deno.truncate(`${dir}/${entryFileName(ec.mcid.toString(), "data")}`, 100); // corrupt: dropped
  await write(entryFileName(hd.mcid.toString(), "have"), new Uint8Array([1, 2, 3])); // wrong length: empty
  await write("unrelated.txt", new Uint8Array(1));

  const s2 = new FsContentStore(fs, dir);
  await s2.open();
  const left = await names(dir);
  assert(!left.some(isTempFileName), `temp files left: ${left}`);
  assert(!left.some((n) => n.startsWith(orphan)), "orphan metadata removed");
  assert(!left.includes(entryFileName(ea.mcid.toString(), "have")), "stale have-set removed");
  assert(left.includes("unrelated.txt"), "foreign files are left alone");
  assertEquals(s2.get(ea.mcid)?.pinned, false, "a torn metadata file falls back to unpinned");
  assertEquals(s2.get(ec.mcid), undefined, "a data file of the wrong size is dropped");
  assertEquals(s2.get(hd.mcid)?.bytes, 0);
  const rb = (await s2.reader(eb.mcid))!;
  assert(rb.leaves && sameBytes(rb.leaves, (await hashBytes(b)).leaves), "leaves rebuilt from the data");
  assert(sameBytes(await rb.read(0, b.length), b));
  await rb.close();
  assert(left.length > 0 && (await names(dir)).includes(entryFileName(eb.mcid.toString(), "leaves")));
  await s2.close();
});

Deno.test("FsContentStore: a child SIGKILLed while writing groups leaves only verified groups marked; resume completes", async () => {
  const dir = newDir();
  const data = randomBytes(4 << 20, 11);
  const { mcid, leaves } = await hashBytes(data);
  await Deno.writeFile(`${base}/crash.src`, data);
  await Deno.writeFile(`${base}/crash.leaves`, leaves);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      CHILD,
      "crash",
      dir,
      `${base}/crash.src`,
      `${base}/crash.leaves`,
      mcid.toString(),
      "8",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let flushed = 0;
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  try {
    while (flushed < 48) {
      const { value, done } = await lines.read();
      if (done) throw new Error("child ended early");
      text += value;
      const matches = [...text.matchAll(/flushed (\d+)/g)];
      if (matches.length) flushed = Number(matches[matches.length - 1][1]);
      assert(!text.includes("done"), "child finished before the kill");
    }
  } finally {
    child.kill("SIGKILL");
    await lines.cancel().catch(() => {});
    await child.status;
  }
  const before = await names(dir);
  assert(before.some(isTempFileName), `a put temp file exists at the kill: ${before}`);

  const store = new FsContentStore(fs, dir);
  await store.open();
  assert(!(await names(dir)).some(isTempFileName), "temp files cleaned at open");
  const w = await store.writer(mcid);
  const have = w.have();
  assert(have.count >= flushed, `have ${have.count} < flushed ${flushed}`);
  assert(have.count < groupCount(mcid.size), "killed before the end");
  const h = await loadHasher(mcid.codec);
  const part = await Deno.open(`${dir}/${entryFileName(mcid.toString(), "part")}`, { read: true });
  try {
    for (const g of have) {
      const bytes = new Uint8Array(GROUP_SIZE);
      await part.seek(g * GROUP_SIZE, Deno.SeekMode.Start);
      let got = 0;
      while (got < GROUP_SIZE) got += (await part.read(bytes.subarray(got)))!;
      assert(groupMatches(h, leaves, mcid.size, g, bytes), `group ${g} is marked present but does not verify`);
    }
  } finally {
    part.close();
  }
  for (const g of RangeSet.full(groupCount(mcid.size)).subtract(have)) await w.writeGroup(g, group(data, g));
  await w.complete();
  const r = (await store.reader(mcid))!;
  assert(sameBytes(await r.read(0, data.length), data));
  await r.close();
  await store.close();
});

Deno.test("FsContentStore: a 3 GiB partial entry is sparse; groups at high offsets are written, read and kept", async () => {
  const dir = newDir();
  const size = 3 * 1024 ** 3 + 1000;
  const n = groupCount(size);
  const h = await loadHasher("blake3");
  // Content: zeros except a few groups; the leaves need no 3 GiB pass.
  const special = new Map<number, Uint8Array>([
    [n - 1, randomBytes(1000, 1)],
    [n - 2, randomBytes(GROUP_SIZE, 2)],
    [Math.floor(2.5 * 1024 ** 3 / GROUP_SIZE), randomBytes(GROUP_SIZE, 3)],
  ]);
  const leaves = new Uint8Array(n * 32);
  const zero = h.leaf(new Uint8Array(GROUP_SIZE));
  for (let i = 0; i < n - 1; i++) leaves.set(zero, i * 32);
  for (const [i, bytes] of special) leaves.set(h.leaf(bytes), i * 32);
  const mcid = new Mcid("blake3", size, rootOf(h, leaves, size));

  const store = new FsContentStore(fs, dir);
  await store.open();
  const w = await store.writer(mcid);
  await w.setLeaves(leaves);
  for (const [i, bytes] of special) await w.writeGroup(i, bytes);
  await w.close();
  const info = await Deno.stat(`${dir}/${entryFileName(mcid.toString(), "part")}`);
  assertEquals(info.size, size);
  assert(info.blocks !== null && info.blocks * 512 < 64 << 20, `not sparse: ${info.blocks} blocks`);
  await store.close();

  const again = new FsContentStore(fs, dir);
  await again.open();
  assertEquals(again.get(mcid)?.bytes, 2 * GROUP_SIZE + 1000);
  const r = (await again.reader(mcid))!;
  for (const [i, bytes] of special) assert(sameBytes(await r.read(i * GROUP_SIZE, bytes.length), bytes), `group ${i}`);
  await assertRejects(() => r.read(0, 1), ContentStoreError);
  await r.close();
  await again.close();
});

Deno.test("FsContentStore: I/O errors are typed and name the path", async () => {
  const file = `${base}/not-a-dir`;
  await Deno.writeFile(file, new Uint8Array(1));
  const store = new FsContentStore(fs, `${file}/content`);
  const error = await assertRejects(() => store.open(), ContentStoreError);
  assert(error.message.includes(`${file}/content`) && !error.message.includes("\n"), error.message);
  await assertRejects(() => store.put(streamOf(new Uint8Array(1))), ContentStoreError, "not open");
});

Deno.test("FsContentStore: 1 GiB put from a file stream and read back in 64 KiB pieces with bounded RSS growth (child process)", async () => {
  const dir = newDir();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-env", CHILD, "rss", dir, "1024", "65536"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 0, stderr);
  const r = JSON.parse(new TextDecoder().decode(out.stdout).trim());
  const mib = (n: number) => (n / 2 ** 20).toFixed(1);
  console.log(
    `1 GiB: put ${r.putSeconds.toFixed(1)} s, read ${r.readSeconds.toFixed(1)} s; RSS baseline ${
      mib(r.baseline)
    } MiB, ` +
      `growth put ${mib(r.peakPut - r.baseline)} MiB, read ${mib(r.peakRead - r.baseline)} MiB`,
  );
  assertEquals(r.size, 1 << 30);
  assert(r.peakPut - r.baseline <= 64 << 20, `put grew RSS by ${mib(r.peakPut - r.baseline)} MiB`);
  assert(r.peakRead - r.baseline <= 64 << 20, `read grew RSS by ${mib(r.peakRead - r.baseline)} MiB`);
});

Deno.test("fs-store files: metadata and have-set decoders reject bad input", () => {
  assertEquals(decodeMeta(encodeMeta({ pinned: true, lastUsed: 5 })), { pinned: true, lastUsed: 5 });
  for (
    const bad of [
      "",
      "{",
      "null",
      "[]",
      "1",
      '{"v":2,"pinned":true,"lastUsed":1}',
      '{"v":1,"pinned":"yes","lastUsed":1}',
      '{"v":1,"pinned":true,"lastUsed":-1}',
      '{"v":1,"pinned":true,"lastUsed":1.5}',
      '{"v":1,"pinned":true}',
      `{"v":1,"pinned":true,"lastUsed":1,"x":"${"a".repeat(2000)}"}`,
    ]
  ) assertEquals(decodeMeta(new TextEncoder().encode(bad)), null, bad.slice(0, 40));
  assertEquals(decodeMeta(new Uint8Array([0xff, 0xfe])), null, "not UTF-8");

  const have = new RangeSet([[0, 3], [9, 10]]);
  assertEquals(decodeHave(encodeHave(have, 10), 10)?.toArray(), have.toArray());
  assertEquals(decodeHave(new Uint8Array(1), 10), null, "too short");
  assertEquals(decodeHave(new Uint8Array(3), 10), null, "too long");
  assertEquals(decodeHave(new Uint8Array([0, 0b100]), 10), null, "a bit past the last group");
  assertEquals(decodeHave(new Uint8Array(0), 0), null, "no groups");

  assertEquals(parseEntryFileName("bafoo.data"), { mcidText: "bafoo", kind: "data" });
  assertEquals(parseEntryFileName("bafoo.exe"), null);
  assertEquals(parseEntryFileName(".data"), null);
  assert(isTempFileName("put-0b7e4c1a-1111-4222-8333-944445555666.tmp") && isTempFileName("x.meta.tmp-1"));
  assert(!isTempFileName("bafoo.data"));
});

Deno.test("fs-store files: decoders never throw on 10,000 random and mutated inputs", () => {
  const valid = [encodeMeta({ pinned: false, lastUsed: 123456789 }), encodeHave(new RangeSet([[2, 7]]), 20)];
  let seed = 99;
  const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) >>> 8) % n;
  let decodedMeta = 0, decodedHave = 0;
  for (let i = 0; i < 10_000; i++) {
    let bytes: Uint8Array;
    if (i % 2 === 0) bytes = randomBytes(rnd(40), i + 1);
    else {
      bytes = valid[rnd(2)].slice();
      for (let k = 0, m = rnd(3); k < m && bytes.length; k++) bytes[rnd(bytes.length)] = rnd(256);
      if (rnd(4) === 0) bytes = bytes.subarray(0, rnd(bytes.length + 1));
    }
    const meta = decodeMeta(bytes);
    if (meta) {
      decodedMeta++;
      assert(typeof meta.pinned === "boolean" && Number.isSafeInteger(meta.lastUsed) && meta.lastUsed >= 0);
    }
    const groups = 1 + rnd(40);
    const have = decodeHave(bytes, groups);
    if (have) {
      decodedHave++;
      assert(have.toArray().every(([s, e]) => s >= 0 && e <= groups && s < e));
      assert(sameBytes(encodeHave(have, groups), bytes), "re-encodes to the same bytes");
    }
  }
  assert(decodedMeta > 0 && decodedHave > 0, `the fuzz reaches the accepting paths (${decodedMeta}, ${decodedHave})`);
});

Deno.test("FsContentStore: clean up the test directory", async () => {
  await Deno.remove(base, { recursive: true });
});

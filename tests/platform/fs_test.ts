/**
 * The file calls of the Deno platform that the content store uses: positional
 * handles (sparse, concurrent), rename, remove, readDir, stat, syncDir and
 * readStream. tests/cross-compile/node_platform_check.ts checks the same
 * calls of the Node platform under Node.
 */
import { createDenoPlatform } from "../../src/platform/deno.ts";
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";

const fs = createDenoPlatform().fs;

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "macula-fs-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("platform fs: positional reads and writes, sparse growth, truncate, size, sync, close", () =>
  withDir(async (dir) => {
    const path = `${dir}/f`;
    const h = await fs.open(path, { read: true, write: true, create: true });
    assertEquals(await h.size(), 0);
    await h.writeAt(new Uint8Array([1, 2, 3]), 10);
    assertEquals(await h.size(), 13);
    const buf = new Uint8Array(20);
    assertEquals(await h.readAt(buf, 8), 5, "short only at the end of the file");
    assertEquals([...buf.subarray(0, 5)], [0, 0, 1, 2, 3]);
    const far = 3 * 1024 ** 3 + 5; // past 2^31 and 2^32
    await h.writeAt(new Uint8Array([9, 8]), far);
    assertEquals(await h.size(), far + 2);
    const two = new Uint8Array(2);
    assertEquals(await h.readAt(two, far), 2);
    assertEquals([...two], [9, 8]);
    await h.sync();
    const info = await Deno.stat(path);
    assert(info.blocks !== null && info.blocks * 512 < 1 << 20, "the hole stays sparse");
    await h.truncate(4);
    assertEquals(await h.size(), 4);
    assertEquals(await h.readAt(new Uint8Array(10), 100), 0, "past the end");
    await h.close();
    await h.close(); // idempotent
    await assertRejects(() => h.readAt(new Uint8Array(1), 0));
  }));

Deno.test("platform fs: concurrent positional operations on one handle do not interleave", () =>
  withDir(async (dir) => {
    const h = await fs.open(`${dir}/f`, { read: true, write: true, create: true });
    const block = (i: number) => new Uint8Array(4096).fill(i);
    await Promise.all(Array.from({ length: 64 }, (_, i) => h.writeAt(block(i), i * 4096)));
    const reads = await Promise.all(Array.from({ length: 64 }, async (_, i) => {
      const b = new Uint8Array(4096);
      await h.readAt(b, i * 4096);
      return b;
    }));
    for (const [i, b] of reads.entries()) assert(b.every((x) => x === i), `block ${i}`);
    await h.close();
  }));

Deno.test("platform fs: open flags and errors", () =>
  withDir(async (dir) => {
    await assertRejects(() => fs.open(`${dir}/missing`, { read: true }));
    const h = await fs.open(`${dir}/new`, { write: true, createNew: true, mode: 0o640 });
    await h.writeAt(new Uint8Array([1, 2, 3]), 0);
    await h.close();
    assertEquals(await fs.fileMode(`${dir}/new`), 0o640);
    await assertRejects(() => fs.open(`${dir}/new`, { write: true, createNew: true }));
    const t = await fs.open(`${dir}/new`, { write: true, truncate: true });
    await t.close();
    assertEquals((await fs.stat(`${dir}/new`))?.size, 0);
    const ro = await fs.open(`${dir}/new`, { read: true });
    await assertRejects(() => ro.writeAt(new Uint8Array(1), 0));
    await ro.close();
  }));

Deno.test("platform fs: rename, remove, readDir, stat, syncDir", () =>
  withDir(async (dir) => {
    assertEquals(await fs.readDir(`${dir}/missing`), null);
    assertEquals(await fs.stat(`${dir}/missing`), null);
    await fs.writeFileAtomic(`${dir}/a`, new Uint8Array([1]), 0o600);
    await fs.writeFileAtomic(`${dir}/b`, new Uint8Array([2, 2]), 0o600);
    await fs.rename(`${dir}/a`, `${dir}/b`);
    assertEquals(await fs.readDir(dir), ["b"]);
    assertEquals(await fs.readFile(`${dir}/b`), new Uint8Array([1]));
    const st = (await fs.stat(`${dir}/b`))!;
    assert(st.isFile && !st.isDirectory && st.size === 1 && Math.abs(st.mtime - Date.now()) < 60_000);
    assert((await fs.stat(dir))!.isDirectory);
    await assertRejects(() => fs.rename(`${dir}/a`, `${dir}/c`));
    await fs.syncDir(dir);
    await fs.syncDir(`${dir}/missing`); // best-effort: no error
    assertEquals(await fs.remove(`${dir}/b`), true);
    assertEquals(await fs.remove(`${dir}/b`), false);
    await fs.mkdir(`${dir}/d/e`, 0o700);
    await fs.writeFileAtomic(`${dir}/d/e/f`, new Uint8Array(1), 0o600);
    await assertRejects(() => fs.remove(`${dir}/d`), undefined, undefined, "not empty");
    assertEquals(await fs.remove(`${dir}/d`, { recursive: true }), true);
    assertEquals(await fs.readDir(dir), []);
  }));

Deno.test("platform fs: readStream gives the file in chunks as pulled; cancel closes it", () =>
  withDir(async (dir) => {
    const data = new Uint8Array(100_000).map((_, i) => i * 7);
    await Deno.writeFile(`${dir}/f`, data);
    const chunks: Uint8Array[] = [];
    for await (const c of fs.readStream(`${dir}/f`, 30_000)) chunks.push(c);
    assertEquals(chunks.map((c) => c.length), [30_000, 30_000, 30_000, 10_000]);
    const all = new Uint8Array(data.length);
    let off = 0;
    for (const c of chunks) all.set(c, off), off += c.length;
    assertEquals(all, data);
    const reader = fs.readStream(`${dir}/f`).getReader();
    assertEquals((await reader.read()).value?.length, 65536);
    await reader.cancel(); // the sanitizer fails the test if the file stays open
    const empty: Uint8Array[] = [];
    await Deno.writeFile(`${dir}/e`, new Uint8Array(0));
    for await (const c of fs.readStream(`${dir}/e`)) empty.push(c);
    assertEquals(empty, []);
    await assertRejects(async () => {
      for await (const _ of fs.readStream(`${dir}/missing`)) { /* nothing */ }
    });
  }));

/**
 * Child process of fs_store_test.ts (not a test file). Modes:
 *
 * - `crash <dir> <source> <leaves> <mcid> <flushEvery>`: open the store, start
 *   a `put` that never ends (so its temp file exists), and write the groups
 *   of `source` in a shuffled order through a writer, flushing every
 *   `flushEvery` groups and printing `flushed <count>` after each flush,
 *   until the parent SIGKILLs it (it never completes the entry).
 * - `rss <dir> <mib> [piece]`: put a file of `mib` MiB (written first) from `FsApi.readStream`, then read it all
 *   back in pieces of `piece` bytes (default 64 KiB), sampling RSS; prints one JSON line with the figures.
 */
import { FsContentStore } from "../../src/content/fs-store.ts";
import { Mcid } from "../../src/content/mcid.ts";
import { currentPlatform } from "../../src/platform/current.ts";
import { GROUP_SIZE, groupCount, groupLength } from "../../src/content/tree.ts";

const fs = currentPlatform().fs;
const [mode, dir, ...rest] = Deno.args;
const out = (line: string) => Deno.stdout.writeSync(new TextEncoder().encode(line + "\n"));

if (mode === "crash") {
  const [sourcePath, leavesPath, mcidText, flushEveryText] = rest;
  const source = await Deno.readFile(sourcePath);
  const leaves = await Deno.readFile(leavesPath);
  const mcid = Mcid.parse(mcidText);
  const flushEvery = Number(flushEveryText);
  const store = new FsContentStore(fs, dir);
  await store.open();
  // A put that stays in progress: its temp file must be cleaned at the next open.
  store.put(new ReadableStream({ start: (c) => c.enqueue(new Uint8Array(1000)) })).catch(() => {});
  const w = await store.writer(mcid);
  await w.setLeaves(leaves);
  const n = groupCount(mcid.size);
  const order = [...Array(n).keys()];
  let x = 12345;
  for (let i = n - 1; i > 0; i--) {
    x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff;
    const j = x % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  let written = 0;
  for (const g of order) {
    if (w.have().has(g)) continue;
    const at = g * GROUP_SIZE;
    await w.writeGroup(g, source.subarray(at, at + groupLength(g, mcid.size)));
    if (++written % flushEvery === 0) {
      await w.flush();
      out(`flushed ${w.have().count}`);
    }
  }
  out("done");
  await new Promise(() => setTimeout(() => {}, 1 << 30)); // wait for the kill
} else if (mode === "rss") {
  const mib = Number(rest[0]);
  const piece = Number(rest[1] ?? 65536);
  const store = new FsContentStore(fs, dir);
  await store.open();
  // The source file, written with one reused buffer before the baseline.
  const source = `${dir}-source`;
  const file = await fs.open(source, { write: true, create: true, truncate: true });
  const chunk = new Uint8Array(1 << 20);
  for (let i = 0; i < mib; i++) {
    chunk.fill(i & 0xff);
    new DataView(chunk.buffer).setUint32(0, i);
    await file.writeAt(chunk, i * chunk.length);
  }
  await file.close();
  // Warm up (hasher, code paths) before the baseline.
  const small = await store.put(new Blob([new Uint8Array(3 << 20)]).stream());
  const warm = (await store.reader(small.mcid))!;
  await warm.read(0, 1 << 20);
  await warm.close();
  (globalThis as { gc?: () => void }).gc?.();
  const baseline = Deno.memoryUsage().rss;
  let peak = baseline;
  const sample = () => peak = Math.max(peak, Deno.memoryUsage().rss);
  const t0 = performance.now();
  const stream = fs.readStream(source).pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        sample();
        controller.enqueue(chunk);
      },
    }),
  );
  const stored = await store.put(stream);
  const putSeconds = (performance.now() - t0) / 1000;
  const peakPut = peak;
  const t1 = performance.now();
  const reader = (await store.reader(stored.mcid))!;
  let check = 0;
  for (let off = 0; off < stored.mcid.size; off += piece) {
    const bytes = await reader.read(off, Math.min(piece, stored.mcid.size - off));
    check += bytes[0] + bytes[bytes.length - 1];
    sample();
  }
  await reader.close();
  const readSeconds = (performance.now() - t1) / 1000;
  await store.close();
  await fs.remove(source);
  out(JSON.stringify({
    size: stored.mcid.size,
    baseline,
    peakPut,
    peakRead: peak,
    putSeconds,
    readSeconds,
    check,
  }));
} else {
  throw new Error(`unknown mode ${mode}`);
}

/**
 * The parallel download over real in-memory node streams: providers with
 * their own stores, a fetcher writing into a `MemoryContentStore`, every
 * failure mode of the issue (throttled, stalled, closed, lying, empty,
 * busy providers), resume, abort and the boundary sizes.
 */
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { Download, askHave } from "../../src/content/download.ts";
import { loadHasher } from "../../src/content/hash.ts";
import { MemoryContentStore } from "../../src/content/memory-store.ts";
import { ContentNotFoundError } from "../../src/content/errors.ts";
import type { Mcid } from "../../src/content/mcid.ts";
import type { ContentReader, ContentStore, ContentWriter } from "../../src/content/store.ts";
import { GROUP_SIZE, groupCount, hashBytes } from "../../src/content/tree.ts";
import { RangeSet } from "../../src/content/ranges.ts";
import type { ByteStream } from "../../src/transport/stream.ts";
import { randomBytes, Swarm } from "./helpers/swarm.ts";

const MiB = 1024 * 1024;

async function readAll(store: ContentStore, mcid: Mcid): Promise<Uint8Array> {
  const r = (await store.reader(mcid))!;
  try {
    return await r.read(0, mcid.size);
  } finally {
    await r.close();
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A writer that records every group written (to prove what was and was not written). */
function recording(writer: ContentWriter, written: number[]): ContentWriter {
  return {
    get mcid() {
      return writer.mcid;
    },
    leaves: () => writer.leaves(),
    setLeaves: (l) => writer.setLeaves(l),
    have: () => writer.have(),
    writeGroup: (i, d) => {
      written.push(i);
      return writer.writeGroup(i, d);
    },
    flush: () => writer.flush(),
    complete: () => writer.complete(),
    close: () => writer.close(),
  };
}

async function fetchFrom(
  swarm: Swarm,
  mcid: Mcid,
  links: number[],
  options: { stallTimeout?: number; signal?: AbortSignal; store?: MemoryContentStore; written?: number[] } = {},
): Promise<{ download: Download; store: MemoryContentStore }> {
  const store = options.store ?? new MemoryContentStore();
  let writer = await store.writer(mcid);
  if (options.written) writer = recording(writer, options.written);
  const download = new Download({
    mcid,
    writer,
    hasher: await loadHasher(mcid.codec),
    stallTimeout: options.stallTimeout,
    signal: options.signal,
  });
  for (const i of links) download.addProvider(swarm.link(i));
  download.noMoreProviders();
  return { download, store };
}

Deno.test("download: 3 providers, 16 MiB — verified output, disjoint shares, ≤ 2 % duplicates", async () => {
  const swarm = await Swarm.start(3);
  try {
    const data = randomBytes(16 * MiB + 123);
    const mcid = await swarm.publish(data);
    const { download, store } = await fetchFrom(swarm, mcid, [0, 1, 2]);
    const entry = await download.done;
    assert(entry.complete);
    assert(equalBytes(await readAll(store, mcid), data), "output differs");
    const p = download.progress();
    assertEquals(p.bytes, data.length);
    assert(p.duplicate <= data.length * 0.02, `duplicates ${p.duplicate}`);
    const served = swarm.providers.map((x) => x.served());
    if (Deno.env.get("DBG")) console.log(served, p.providers);
    const total = served.reduce((a, b) => a + b, 0);
    assert(total >= p.fetched && total <= data.length * 1.02, `served ${served}, fetched ${p.fetched}`);
    for (const s of served) assert(s > 0, `every provider served a share: ${served}`);
    assertEquals(p.badBlocks, 0);
  } finally {
    await swarm.stop();
  }
});

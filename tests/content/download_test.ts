/**
 * The parallel download over real in-memory node streams: providers with
 * their own stores, a fetcher writing into a `MemoryContentStore`, every
 * failure mode of the issue (throttled, stalled, closed, lying, empty,
 * busy providers), resume, abort and the boundary sizes.
 */
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { askHave, Download } from "../../src/content/download.ts";
import { loadHasher } from "../../src/content/hash.ts";
import { MemoryContentStore } from "../../src/content/memory-store.ts";
import { ContentNotFoundError } from "../../src/content/errors.ts";
import type { Mcid } from "../../src/content/mcid.ts";
import type { ContentStore, ContentWriter } from "../../src/content/store.ts";
import { GROUP_SIZE, groupCount, hashBytes } from "../../src/content/tree.ts";
import { RangeSet } from "../../src/content/ranges.ts";
import { randomBytes, Swarm } from "./helpers/swarm.ts";
import { FaultyStore } from "./helpers/faulty-store.ts";
import { ContentProvider } from "../../src/content/provider.ts";
import {
  CONTENT_PROTOCOL,
  decodeRequest,
  encodeAnswer,
  encodeBlockFrame,
  MAX_CONTENT_FRAME,
} from "../../src/content/messages.ts";
import { BufferedReader, writeFrame } from "../../src/wire/frame.ts";
import { memoryNode } from "../helpers/nodes.ts";
import { loopbackNode } from "../helpers/nodes.ts";
import { HASH_LENGTH } from "../../src/content/hash.ts";

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

/**
 * A writer that records every group written (to prove what was and was not
 * written) and, given the true content, that every write was of true bytes.
 */
function recording(writer: ContentWriter, written: number[], truth?: Uint8Array): ContentWriter {
  return {
    get mcid() {
      return writer.mcid;
    },
    leaves: () => writer.leaves(),
    setLeaves: (l) => writer.setLeaves(l),
    have: () => writer.have(),
    writeGroup: (i, d) => {
      written.push(i);
      if (truth) assert(equalBytes(d, truth.subarray(i * GROUP_SIZE, i * GROUP_SIZE + d.length)), `bad group ${i}`);
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
  options: {
    stallTimeout?: number;
    signal?: AbortSignal;
    store?: MemoryContentStore;
    written?: number[];
    truth?: Uint8Array;
    more?: boolean;
  } = {},
): Promise<{ download: Download; store: MemoryContentStore }> {
  const store = options.store ?? new MemoryContentStore();
  let writer = await store.writer(mcid);
  if (options.written) writer = recording(writer, options.written, options.truth);
  const download = new Download({
    mcid,
    writer,
    hasher: await loadHasher(mcid.codec),
    stallTimeout: options.stallTimeout,
    signal: options.signal,
  });
  for (const i of links) download.addProvider(swarm.link(i));
  if (!options.more) download.noMoreProviders();
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
    const total = served.reduce((a, b) => a + b, 0);
    assert(total >= p.fetched && total <= data.length * 1.02, `served ${served}, fetched ${p.fetched}`);
    for (const s of served) assert(s > 0, `every provider served a share: ${served}`);
    assertEquals(p.badBlocks, 0);
  } finally {
    await swarm.stop();
  }
});

Deno.test("download: a throttled provider gets less, the others take over its share", async () => {
  const swarm = await Swarm.start(3, (i) => i === 0 ? { uploadRate: 1 * MiB } : {});
  try {
    const data = randomBytes(12 * MiB);
    const mcid = await swarm.publish(data);
    const t0 = performance.now();
    const { download, store } = await fetchFrom(swarm, mcid, [0, 1, 2]);
    await download.done;
    const ms = performance.now() - t0;
    assert(equalBytes(await readAll(store, mcid), data));
    const served = swarm.providers.map((x) => x.served());
    assert(served[0] < served[1] / 2 && served[0] < served[2] / 2, `throttled served ${served}`);
    // Alone, the throttled provider would need ~11 s; its share was taken by the others.
    assert(ms < 5000, `took ${ms} ms`);
    assert(download.progress().duplicate <= data.length * 0.02, `duplicates ${download.progress().duplicate}`);
  } finally {
    await swarm.stop();
  }
});

Deno.test("download: a provider that stops answering is declared stalled; the others finish", async () => {
  let reads = 0;
  const swarm = await Swarm.start(3, (i) =>
    i === 0
      ? {
        store: new FaultyStore(new MemoryContentStore(), {
          // Serves a little, then hangs for good.
          read: (real) => ++reads <= 2 ? real() : new Promise<Uint8Array>(() => {}),
        }),
      }
      : { uploadRate: 4 * MiB });
  try {
    const data = randomBytes(6 * MiB);
    const mcid = await swarm.publish(data);
    const written: number[] = [];
    const { download, store } = await fetchFrom(swarm, mcid, [0, 1, 2], { stallTimeout: 300, written, truth: data });
    await download.done;
    assert(equalBytes(await readAll(store, mcid), data));
    const p0 = download.progress().providers.find((p) => p.peer === swarm.providers[0].node.id.did)!;
    assertEquals(p0.state, "stalled");
    assertEquals(new Set(written).size, written.length, "no group written twice");
  } finally {
    await swarm.stop();
  }
});

Deno.test("download: a provider that goes away mid-transfer — its work is re-queued at once", async () => {
  const swarm = await Swarm.start(3, (i) => i === 0 ? { uploadRate: 4 * MiB } : { uploadRate: 8 * MiB });
  try {
    const data = randomBytes(12 * MiB);
    const mcid = await swarm.publish(data);
    const { download, store } = await fetchFrom(swarm, mcid, [0, 1, 2], { stallTimeout: 30_000 });
    let stopped = false;
    download.onVerified(() => {
      if (!stopped && download.progress().bytes > 2 * MiB) {
        stopped = true;
        swarm.providers[0].node.stop();
      }
    });
    await download.done;
    assert(stopped);
    assert(equalBytes(await readAll(store, mcid), data));
    const p0 = download.progress().providers.find((p) => p.peer === swarm.providers[0].node.id.did)!;
    assertEquals(p0.state, "dropped");
  } finally {
    await swarm.stop();
  }
});

Deno.test("download: a lying provider is detected, counted and dropped; no bad group is ever written", async () => {
  const swarm = await Swarm.start(3, (i) =>
    i === 1
      ? {
        store: new FaultyStore(new MemoryContentStore(), {
          read: async (real) => {
            const bytes = await real();
            if (bytes.length) bytes[bytes.length >> 1] ^= 0x40;
            return bytes;
          },
        }),
      }
      : {});
  try {
    const data = randomBytes(8 * MiB + 5);
    const mcid = await swarm.publish(data);
    const written: number[] = [];
    const { download, store } = await fetchFrom(swarm, mcid, [0, 1, 2], { written, truth: data });
    await download.done;
    assert(equalBytes(await readAll(store, mcid), data));
    const p = download.progress();
    assert(p.badBlocks >= 1, "bad block counted");
    const liar = p.providers.find((x) => x.peer === swarm.providers[1].node.id.did)!;
    assertEquals(liar.state, "dropped");
    assert(/does not match/.test(liar.reason ?? ""), liar.reason);
    assertEquals(written.length, groupCount(data.length), "each group written once");
  } finally {
    await swarm.stop();
  }
});

Deno.test("download: a provider with wrong leaf hashes is dropped and the tree is taken from another", async () => {
  const swarm = await Swarm.start(
    2,
    (i) =>
      i === 0 ? { store: new FaultyStore(new MemoryContentStore(), { leaves: (l) => l && l.map((b) => b ^ 1) }) } : {},
  );
  try {
    const data = randomBytes(3 * MiB);
    const mcid = await swarm.publish(data);
    const store = new MemoryContentStore();
    const download = new Download({ mcid, writer: await store.writer(mcid), hasher: await loadHasher(mcid.codec) });
    download.addProvider(swarm.link(0));
    await new Promise((r) => setTimeout(r, 100));
    download.addProvider(swarm.link(1));
    download.noMoreProviders();
    await download.done;
    assert(equalBytes(await readAll(store, mcid), data));
    assertEquals(download.progress().badTrees, 1);
    assertEquals(download.progress().providers[0].state, "dropped");
  } finally {
    await swarm.stop();
  }
});

Deno.test("download: a provider that goes silent while sending the tree is stalled; another sends it", async () => {
  const swarm = await Swarm.start(2);
  try {
    const data = randomBytes(1 * MiB);
    const mcid = await swarm.publish(data);
    const store = new MemoryContentStore();
    const download = new Download({
      mcid,
      writer: await store.writer(mcid),
      hasher: await loadHasher(mcid.codec),
      stallTimeout: 300,
    });
    // Provider 0's answers stop after the first chunk (its have).
    download.addProvider(swarm.link(0, (stream) => {
      let chunks = 0;
      return {
        read: () => ++chunks <= 1 ? stream.read() : new Promise<Uint8Array | null>(() => {}),
        write: (c) => stream.write(c),
        closeWrite: () => stream.closeWrite(),
        reset: (r) => stream.reset(r),
        closed: stream.closed,
      };
    }));
    await new Promise((r) => setTimeout(r, 50));
    download.addProvider(swarm.link(1));
    download.noMoreProviders();
    await download.done;
    assert(equalBytes(await readAll(store, mcid), data));
    assertEquals(download.progress().providers[0].state, "stalled");
  } finally {
    await swarm.stop();
  }
});

Deno.test("download: dont-have from every provider → ContentNotFoundError after noMoreProviders", async () => {
  const swarm = await Swarm.start(2);
  try {
    const { mcid } = await hashBytes(randomBytes(100_000));
    const store = new MemoryContentStore();
    const download = new Download({ mcid, writer: await store.writer(mcid), hasher: await loadHasher(mcid.codec) });
    download.addProvider(swarm.link(0));
    download.addProvider(swarm.link(1));
    await new Promise((r) => setTimeout(r, 100));
    let settled = false;
    download.done.catch(() => {}).finally(() => settled = true);
    await new Promise((r) => setTimeout(r, 50));
    assert(!settled, "waits for more providers until discovery is over");
    download.noMoreProviders();
    await assertRejects(() => download.done, ContentNotFoundError);
    // The writer was released: a new one can be opened.
    await (await store.writer(mcid)).close();
  } finally {
    await swarm.stop();
  }
});

Deno.test("download: no provider at all → ContentNotFoundError", async () => {
  const { mcid } = await hashBytes(randomBytes(10));
  const store = new MemoryContentStore();
  const download = new Download({ mcid, writer: await store.writer(mcid), hasher: await loadHasher(mcid.codec) });
  download.noMoreProviders();
  await assertRejects(() => download.done, ContentNotFoundError, "no provider has it");
});

Deno.test("download: a busy provider's work goes to the others", async () => {
  const swarm = await Swarm.start(2, (i) => i === 0 ? { maxUploads: 0 } : {});
  try {
    const data = randomBytes(4 * MiB);
    const mcid = await swarm.publish(data);
    const { download, store } = await fetchFrom(swarm, mcid, [0, 1]);
    await download.done;
    assert(equalBytes(await readAll(store, mcid), data));
    assertEquals(swarm.providers[0].served(), 0);
    assertEquals(swarm.providers[1].served(), data.length);
  } finally {
    await swarm.stop();
  }
});

Deno.test("download: abort leaves a resumable writer; the resumed run fetches only the missing groups", async () => {
  const swarm = await Swarm.start(2, () => ({ uploadRate: 8 * MiB }));
  try {
    const data = randomBytes(6 * MiB + 1000);
    const mcid = await swarm.publish(data);
    const store = new MemoryContentStore();
    const ac = new AbortController();
    const first = await fetchFrom(swarm, mcid, [0, 1], { store, signal: ac.signal });
    first.download.onVerified(() => {
      if (first.download.progress().bytes > 2 * MiB) ac.abort(new Error("user stop"));
    });
    await assertRejects(() => first.download.done, Error, "user stop");
    const partial = store.get(mcid)!;
    assert(!partial.complete && partial.bytes > 2 * MiB && partial.bytes < data.length, `partial ${partial.bytes}`);
    const before = await store.writer(mcid);
    const had = before.have();
    await before.close();
    const written: number[] = [];
    const second = await fetchFrom(swarm, mcid, [0, 1], { store, written, truth: data });
    await second.download.done;
    assert(equalBytes(await readAll(store, mcid), data));
    for (const i of written) assert(!had.has(i), `group ${i} was present and fetched again`);
    assertEquals(written.length + had.count, groupCount(data.length));
    const p = second.download.progress();
    assertEquals(p.bytes, data.length);
    assert(p.fetched < data.length - 2 * MiB, `fetched ${p.fetched}`);
  } finally {
    await swarm.stop();
  }
});

for (const size of [0, 1, GROUP_SIZE, GROUP_SIZE + 1]) {
  Deno.test(`download: ${size} bytes`, async () => {
    const swarm = await Swarm.start(2);
    try {
      const data = randomBytes(size);
      const mcid = await swarm.publish(data);
      const { download, store } = await fetchFrom(swarm, mcid, [0, 1]);
      const entry = await download.done;
      assert(entry.complete);
      assertEquals(entry.bytes, size);
      assert(equalBytes(await readAll(store, mcid), data));
    } finally {
      await swarm.stop();
    }
  });
}

Deno.test("download: already complete → done at once, without providers", async () => {
  const data = randomBytes(50_000);
  const store = new MemoryContentStore();
  const mcid = (await store.put(ReadableStream.from([data]))).mcid;
  const download = new Download({ mcid, writer: await store.writer(mcid), hasher: await loadHasher(mcid.codec) });
  assert((await download.done).complete);
});

Deno.test("download: streaming readers follow onVerified; progress adds up", async () => {
  const swarm = await Swarm.start(1);
  try {
    const data = randomBytes(2 * MiB + 7);
    const mcid = await swarm.publish(data);
    const store = new MemoryContentStore();
    const download = new Download({ mcid, writer: await store.writer(mcid), hasher: await loadHasher(mcid.codec) });
    const seen = new RangeSet();
    download.onVerified((i) => {
      assert(!seen.has(i), `group ${i} reported twice`);
      seen.add(i);
    });
    download.addProvider(swarm.link(0));
    download.addProvider(swarm.link(0)); // duplicate peer: ignored
    await download.done;
    assertEquals(seen.count, groupCount(data.length));
    const p = download.progress();
    assertEquals(p.providers.length, 1);
    assertEquals(p.fetched, data.length);
    assertEquals(p.providers[0].bytes, data.length);
    assert(p.elapsed > 0 && p.rate >= 0);
  } finally {
    await swarm.stop();
  }
});

Deno.test("askHave: the ranges a provider has, or null", async () => {
  const swarm = await Swarm.start(2);
  try {
    const data = randomBytes(100_000);
    const mcid = await swarm.publish(data, [0]);
    const have = await askHave(swarm.link(0), mcid);
    assertEquals(have?.toArray(), [[0, groupCount(data.length)]]);
    assertEquals(await askHave(swarm.link(1), mcid), null);
  } finally {
    await swarm.stop();
  }
});

Deno.test("download: two providers over real TCP+Noise loopback connections", async () => {
  const data = randomBytes(4 * MiB + 3);
  const nodes = [];
  try {
    const fetcher = await loopbackNode({ transports: ["tcp"], content: false });
    nodes.push(fetcher);
    const links = [];
    let mcid!: Mcid;
    for (let i = 0; i < 2; i++) {
      const node = await loopbackNode({ transports: ["tcp"], content: false });
      nodes.push(node);
      const store = new MemoryContentStore();
      mcid = (await store.put(ReadableStream.from([data]))).mcid;
      const provider = new ContentProvider({ store });
      node.handle(CONTENT_PROTOCOL, (s) => provider.serve(s, s.remoteId));
      links.push({
        peer: node.id,
        open: async (signal?: AbortSignal) =>
          await (await fetcher.connect(node.addrs[0], { signal })).openStream(CONTENT_PROTOCOL, { signal }),
      });
    }
    const store = new MemoryContentStore();
    const download = new Download({ mcid, writer: await store.writer(mcid), hasher: await loadHasher(mcid.codec) });
    for (const l of links) download.addProvider(l);
    download.noMoreProviders();
    await download.done;
    assert(equalBytes(await readAll(store, mcid), data));
    const p = download.progress();
    assert(p.providers.every((x) => x.bytes > 0), "both providers served");
    assert(p.duplicate <= data.length * 0.02, JSON.stringify(p));
  } finally {
    for (const n of nodes) await n.stop();
  }
});

Deno.test("download: a provider flooding blocks nobody asked for is dropped", async () => {
  const swarm = await Swarm.start(1, () => ({ uploadRate: 4 * MiB }));
  const flooder = await memoryNode(swarm.network, { content: false });
  try {
    const data = randomBytes(2 * MiB);
    const mcid = await swarm.publish(data);
    const { leaves } = await hashBytes(data);
    const first = data.subarray(0, 16 * GROUP_SIZE);
    flooder.handle(CONTENT_PROTOCOL, async (stream) => {
      const reader = new BufferedReader(stream);
      try {
        for (let f = await reader.readFrame(MAX_CONTENT_FRAME); f; f = await reader.readFrame(MAX_CONTENT_FRAME)) {
          const req = decodeRequest(f);
          if (req.t === "want-have") {
            await writeFrame(
              stream,
              encodeAnswer({ t: "have", id: req.id, ranges: RangeSet.full(groupCount(data.length)) }),
            );
          } else if (req.t === "want-tree") {
            const hashes = leaves.slice(req.from * HASH_LENGTH, (req.from + req.count) * HASH_LENGTH);
            await writeFrame(stream, encodeAnswer({ t: "tree", id: req.id, from: req.from, hashes }));
          } else if (req.t === "want-block") {
            for (;;) await stream.write(encodeBlockFrame(123456, 0, first)); // the same true groups, forever
          }
        }
      } catch {
        // reset by the fetcher
      }
    });
    const store = new MemoryContentStore();
    const download = new Download({ mcid, writer: await store.writer(mcid), hasher: await loadHasher(mcid.codec) });
    download.addProvider(swarm.link(0));
    download.addProvider({
      peer: flooder.id,
      open: async (signal) =>
        await (await swarm.fetcher.connect(flooder.addrs[0], { signal })).openStream(CONTENT_PROTOCOL),
    });
    download.noMoreProviders();
    await download.done;
    assert(equalBytes(await readAll(store, mcid), data));
    const f = download.progress().providers.find((p) => p.peer === flooder.id.did)!;
    assertEquals(f.state, "dropped");
    assertEquals(f.reason, "sends blocks nobody asked for");
  } finally {
    await flooder.stop();
    await swarm.stop();
  }
});

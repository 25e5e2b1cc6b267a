/**
 * Quick engine figures over real loopback connections (the lead's bench is
 * the real one):
 *
 * 1. one provider, `SIZE` MiB, content fetch vs a raw stream of the same
 *    size over the same connection type (QUIC or TCP+Noise);
 * 2. three providers each capped at `RATE` MiB/s vs one (same cap), end
 *    to end and over the last three quarters (a token bucket starts with a
 *    second's worth, so the start is a burst);
 * 3. duplicate bytes of each fetch.
 *
 * Both ends run in this one process (one thread), so both figures pay for
 * both sides; the best of `TRIES` (default 3) runs is reported.
 *
 * Run: `deno run --allow-net --allow-read --allow-write --allow-env --allow-sys --unstable-net
 * tests/content/helpers/transfer_bench.ts [quic|tcp] [SIZE_MiB=64] [RATE_MiB/s=4]`
 */
import type { Node } from "../../../src/api/node.ts";
import { Download, type ProviderLink } from "../../../src/content/download.ts";
import { loadHasher } from "../../../src/content/hash.ts";
import { MemoryContentStore } from "../../../src/content/memory-store.ts";
import { CONTENT_PROTOCOL } from "../../../src/content/messages.ts";
import { ContentProvider } from "../../../src/content/provider.ts";
import type { Mcid } from "../../../src/content/mcid.ts";
import { RangeSet } from "../../../src/content/ranges.ts";
import type { ContentWriter } from "../../../src/content/store.ts";
import { loopbackNode } from "../../helpers/nodes.ts";
import { randomBytes } from "./swarm.ts";

const transport = (Deno.args[0] ?? "quic") as "quic" | "tcp";
const SIZE = Number(Deno.args[1] ?? 64) * 1024 * 1024;
const RATE = Number(Deno.args[2] ?? 4) * 1024 * 1024;
const RAW = "/bench/raw/1";
const CHUNK = 256 * 1024;

function mbps(bytes: number, ms: number): string {
  return (bytes / 1e6 / (ms / 1000)).toFixed(1);
}

async function provider(data: Uint8Array, uploadRate = 0): Promise<{ node: Node; mcid: Mcid }> {
  const node = await loopbackNode({ transports: [transport] });
  const store = new MemoryContentStore();
  const { mcid } = await store.put(ReadableStream.from([data]));
  const p = new ContentProvider({ store, uploadRate });
  node.handle(CONTENT_PROTOCOL, (s) => p.serve(s, s.remoteId));
  node.handle(RAW, async (s) => {
    for (let off = 0; off < data.length; off += CHUNK) await s.write(data.subarray(off, off + CHUNK));
    await s.closeWrite();
  });
  return { node, mcid };
}

function link(fetcher: Node, to: Node): ProviderLink {
  return {
    peer: to.id,
    open: async (signal) =>
      await (await fetcher.connect(to.addrs.find((a) => a.startsWith(transport))!, { signal })).openStream(
        CONTENT_PROTOCOL,
        { signal },
      ),
  };
}

/** A writer that keeps the have-set and leaves but drops the bytes (the raw baseline stores nothing either). */
function nullWriter(mcid: Mcid): ContentWriter {
  const have = new RangeSet();
  let leaves: Uint8Array | undefined;
  const entry = { mcid, complete: true, pinned: false, bytes: mcid.size, lastUsed: Date.now() };
  return {
    mcid,
    leaves: () => leaves,
    setLeaves: (l) => {
      leaves = l;
      return Promise.resolve();
    },
    have: () => have.clone(),
    writeGroup: (i) => {
      have.add(i);
      return Promise.resolve();
    },
    flush: () => Promise.resolve(),
    complete: () => Promise.resolve(entry),
    close: () => Promise.resolve(),
  };
}

async function fetch(
  fetcher: Node,
  providers: Node[],
  mcid: Mcid,
): Promise<{ ms: number; dup: number; shares: string; steady: number }> {
  const t0 = performance.now();
  const d = new Download({ mcid, writer: nullWriter(mcid), hasher: await loadHasher(mcid.codec) });
  let quarter = 0;
  d.onVerified(() => {
    if (!quarter && d.progress().bytes >= SIZE / 4) quarter = performance.now();
  });
  for (const p of providers) d.addProvider(link(fetcher, p));
  d.noMoreProviders();
  await d.done;
  const ms = performance.now() - t0;
  const p = d.progress();
  return {
    ms,
    dup: p.duplicate,
    shares: p.providers.map((x) => `${(x.bytes / 2 ** 20).toFixed(1)}`).join("/"),
    steady: performance.now() - quarter,
  };
}

async function raw(fetcher: Node, to: Node): Promise<number> {
  const conn = await fetcher.connect(to.addrs.find((a) => a.startsWith(transport))!);
  const t0 = performance.now();
  const s = await conn.openStream(RAW);
  let n = 0;
  for (let c = await s.read(); c; c = await s.read()) n += c.length;
  if (n !== SIZE) throw new Error(`raw got ${n}`);
  return performance.now() - t0;
}

const data = randomBytes(SIZE);
const fetcher = await loopbackNode({ transports: [transport] });
const one = await provider(data);
// Warm up the connection and the JIT.
await raw(fetcher, one.node);
await fetch(fetcher, [one.node], one.mcid);
const TRIES = Number(Deno.env.get("TRIES") ?? 3);
let rawMs = Infinity;
let got = { ms: Infinity, dup: 0, shares: "", steady: 0 };
for (let i = 0; i < TRIES; i++) {
  rawMs = Math.min(rawMs, await raw(fetcher, one.node));
  const f = await fetch(fetcher, [one.node], one.mcid);
  if (f.ms < got.ms) got = f;
}
console.log(
  `${transport} ${SIZE >> 20} MiB, 1 provider: raw stream ${mbps(SIZE, rawMs)} MB/s, content fetch ${
    mbps(SIZE, got.ms)
  } MB/s → ${(rawMs / got.ms).toFixed(2)}× (duplicate ${got.dup} B)`,
);
await one.node.stop();

const capped = [await provider(data, RATE), await provider(data, RATE), await provider(data, RATE)];
const single = await fetch(fetcher, [capped[0].node], capped[0].mcid);
const triple = await fetch(fetcher, capped.map((c) => c.node), capped[0].mcid);
console.log(
  `${transport} ${SIZE >> 20} MiB, providers capped at ${RATE >> 20} MiB/s: 1 → ${mbps(SIZE, single.ms)} MB/s, 3 → ${
    mbps(SIZE, triple.ms)
  } MB/s → ${(single.ms / triple.ms).toFixed(2)}×; after the first quarter (token buckets start full): ${
    (single.steady / triple.steady).toFixed(2)
  }× (duplicate ${single.dup} / ${triple.dup} B = ${
    (100 * triple.dup / SIZE).toFixed(2)
  } %; MiB per provider ${triple.shares})`,
);
for (const c of capped) await c.node.stop();
await fetcher.stop();

/**
 * Quick engine figures over real loopback connections, each provider in
 * its own process (the lead's bench is the real one):
 *
 * 1. one provider, `SIZE` MiB, content fetch vs a raw stream of the same
 *    size over the same connection type (QUIC or TCP+Noise), best of
 *    `TRIES` (default 3);
 * 2. three providers each capped at `RATE` MiB/s vs one (same cap), end
 *    to end and over the last three quarters (a token bucket starts with a
 *    second's worth, so the start is a burst);
 * 3. duplicate bytes of each fetch.
 *
 * The fetcher verifies every group but drops the bytes (the raw baseline
 * stores nothing either).
 *
 * `… transfer_bench.ts rss [quic|tcp] [SIZE_MiB=1024]` instead fetches once
 * and reports the fetcher's peak RSS growth.
 *
 * Run: `deno run --allow-net --allow-read --allow-write --allow-env --allow-sys --allow-run --unstable-net
 * tests/content/helpers/transfer_bench.ts [quic|tcp] [SIZE_MiB=64] [RATE_MiB/s=4]`
 */
import { Download, type ProviderLink } from "../../../src/content/download.ts";
import { loadHasher } from "../../../src/content/hash.ts";
import { MemoryContentStore } from "../../../src/content/memory-store.ts";
import { CONTENT_PROTOCOL } from "../../../src/content/messages.ts";
import { ContentProvider } from "../../../src/content/provider.ts";
import { Mcid } from "../../../src/content/mcid.ts";
import { RangeSet } from "../../../src/content/ranges.ts";
import type { ContentWriter } from "../../../src/content/store.ts";
import { NodeId } from "../../../src/identity/node-id.ts";
import { loopbackNode } from "../../helpers/nodes.ts";
import { rng } from "../../helpers/mutate.ts";
import { firstLine } from "../../../scripts/process.ts";

const RAW = "/bench/raw/1";
const CHUNK = 256 * 1024;

/** The same pseudo-random bytes in every process. */
function seeded(size: number): Uint8Array {
  const next = rng(12);
  const words = new Uint32Array(Math.ceil(size / 4));
  for (let i = 0; i < words.length; i++) words[i] = next() * 2 ** 32;
  return new Uint8Array(words.buffer, 0, size);
}

/** Child: serve `size` random bytes (content and raw), print `{addr, mcid}`, run until stdin closes. */
async function serve(transport: "quic" | "tcp", size: number, rate: number): Promise<void> {
  const data = seeded(size);
  const node = await loopbackNode({ transports: [transport], content: false });
  const store = new MemoryContentStore();
  const { mcid } = await store.put(ReadableStream.from([data]));
  const p = new ContentProvider({ store, uploadRate: rate });
  node.handle(CONTENT_PROTOCOL, (s) => p.serve(s, s.remoteId));
  node.handle(RAW, async (s) => {
    for (let off = 0; off < data.length; off += CHUNK) await s.write(data.subarray(off, off + CHUNK));
    await s.closeWrite();
  });
  console.log(JSON.stringify({ addr: node.addrs.find((a) => a.startsWith(transport)), mcid: mcid.toString() }));
  for await (const _ of Deno.stdin.readable) { /* wait for EOF */ }
  await node.stop();
}

interface Child {
  addr: string;
  id: NodeId;
  mcid: Mcid;
  stop(): Promise<void>;
}

async function spawn(transport: string, size: number, rate: number): Promise<Child> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-env",
      "--allow-sys",
      "--unstable-net",
      import.meta.filename!,
      "serve",
      transport,
      String(size),
      String(rate),
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const { addr, mcid } = JSON.parse(await firstLine(child.stdout, "provider child"));
  const writer = child.stdin.getWriter();
  return {
    addr,
    id: NodeId.fromDid(addr.slice(addr.indexOf("did:key:"))),
    mcid: Mcid.parse(mcid),
    async stop() {
      await writer.close().catch(() => {});
      const t = setTimeout(() => child.kill("SIGKILL"), 3000);
      await child.status;
      clearTimeout(t);
    },
  };
}

function mbps(bytes: number, ms: number): string {
  return (bytes / 1e6 / (ms / 1000)).toFixed(1);
}

/** A writer that keeps the have-set and leaves but drops the bytes. */
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

async function main(transport: "quic" | "tcp", size: number, rate: number): Promise<void> {
  const fetcher = await loopbackNode({ transports: [transport], content: false });
  const link = (c: Child): ProviderLink => ({
    peer: c.id,
    open: async (signal) => await (await fetcher.connect(c.addr, { signal })).openStream(CONTENT_PROTOCOL, { signal }),
  });
  const fetch = async (children: Child[]) => {
    const mcid = children[0].mcid;
    const t0 = performance.now();
    const d = new Download({ mcid, writer: nullWriter(mcid), hasher: await loadHasher(mcid.codec) });
    let quarter = 0;
    d.onVerified(() => {
      if (!quarter && d.progress().bytes >= size / 4) quarter = performance.now();
    });
    for (const c of children) d.addProvider(link(c));
    d.noMoreProviders();
    await d.done;
    const p = d.progress();
    const end = performance.now();
    return {
      ms: end - t0,
      steady: end - quarter,
      dup: p.duplicate,
      shares: p.providers.map((x) => (x.bytes / 2 ** 20).toFixed(1)).join("/"),
    };
  };
  const raw = async (c: Child) => {
    const conn = await fetcher.connect(c.addr);
    const t0 = performance.now();
    const s = await conn.openStream(RAW);
    let n = 0;
    for (let chunk = await s.read(); chunk; chunk = await s.read()) n += chunk.length;
    if (n !== size) throw new Error(`raw stream gave ${n} bytes`);
    return performance.now() - t0;
  };

  const tries = Number(Deno.env.get("TRIES") ?? 3);
  const one = await spawn(transport, size, 0);
  let rawMs = Infinity, fetchMs = Infinity, dup = 0;
  for (let i = 0; i < tries; i++) {
    rawMs = Math.min(rawMs, await raw(one));
    const f = await fetch([one]);
    if (f.ms < fetchMs) [fetchMs, dup] = [f.ms, f.dup];
  }
  await one.stop();
  console.log(
    `${transport} ${size >> 20} MiB, 1 provider: raw stream ${mbps(size, rawMs)} MB/s, content fetch ${
      mbps(size, fetchMs)
    } MB/s → ${(rawMs / fetchMs).toFixed(2)}× (duplicate ${dup} B)`,
  );

  const capped = await Promise.all([0, 1, 2, 3].map(() => spawn(transport, size, rate)));
  if (!capped.every((c) => c.mcid.equals(capped[0].mcid))) throw new Error("children must serve the same content");
  const single = await fetch([capped[0]]);
  const triple = await fetch(capped.slice(1));
  for (const c of capped) await c.stop();
  console.log(
    `${transport} ${size >> 20} MiB, providers capped at ${rate >> 20} MiB/s: 1 → ${mbps(size, single.ms)} MB/s, 3 → ${
      mbps(size, triple.ms)
    } MB/s → ${(single.ms / triple.ms).toFixed(2)}×; after the first quarter: ${
      (single.steady / triple.steady).toFixed(2)
    }× (duplicate ${(100 * triple.dup / size).toFixed(2)} %; MiB per provider ${triple.shares})`,
  );
  await fetcher.stop();
}

/** Fetch `size` bytes from one child (verified, bytes dropped) and report the fetcher's RSS growth. */
async function rss(transport: "quic" | "tcp", size: number): Promise<void> {
  const fetcher = await loopbackNode({ transports: [transport], content: false });
  const child = await spawn(transport, size, 0);
  const mcid = child.mcid;
  // Baseline: a raw stream of the same size over the same connection.
  const conn = await fetcher.connect(child.addr);
  const rawBefore = Deno.memoryUsage().rss;
  let rawPeak = rawBefore;
  const s = await conn.openStream(RAW);
  for (let chunk = await s.read(); chunk; chunk = await s.read()) rawPeak = Math.max(rawPeak, Deno.memoryUsage().rss);
  const before = Deno.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => peak = Math.max(peak, Deno.memoryUsage().rss), 50);
  const t0 = performance.now();
  const d = new Download({ mcid, writer: nullWriter(mcid), hasher: await loadHasher(mcid.codec) });
  d.addProvider({
    peer: child.id,
    open: async (signal) =>
      await (await fetcher.connect(child.addr, { signal })).openStream(CONTENT_PROTOCOL, { signal }),
  });
  d.noMoreProviders();
  await d.done;
  clearInterval(timer);
  console.log(
    `${transport} ${size >> 20} MiB fetch: ${mbps(size, performance.now() - t0)} MB/s, fetcher RSS growth ${
      ((peak - before) / 2 ** 20).toFixed(1)
    } MiB; raw stream RSS growth ${((rawPeak - rawBefore) / 2 ** 20).toFixed(1)} MiB (leaf hashes alone: ${
      (size / 16384 * 32 / 2 ** 20).toFixed(1)
    } MiB)`,
  );
  await child.stop();
  await fetcher.stop();
}

if (Deno.args[0] === "rss") {
  await rss(Deno.args[1] as "quic" | "tcp", Number(Deno.args[2] ?? 1024) * 2 ** 20);
} else if (Deno.args[0] === "serve") {
  await serve(Deno.args[1] as "quic" | "tcp", Number(Deno.args[2]), Number(Deno.args[3]));
} else {
  const transport = (Deno.args[0] ?? "quic") as "quic" | "tcp";
  await main(transport, Number(Deno.args[1] ?? 64) * 2 ** 20, Number(Deno.args[2] ?? 4) * 2 ** 20);
}

/**
 * One node of `content_bench.ts` (a provider, a fetcher or the hashing
 * node), in a process of its own so that every node has its own JS thread
 * and its RSS can be read from /proc. Started with one JSON argument (a
 * `ProcessConfig`), it prints one ready line (`ProcessReady`) on stdout,
 * then answers JSON-line commands (`Command`) from stdin with one JSON line
 * each (`{ok: true, …}` or `{ok: false, error}`), in order, until `stop` or
 * the end of stdin.
 *
 * Run by the bench; standalone:
 * `deno run --allow-net --allow-read --allow-write --allow-sys=networkInterfaces --unstable-net
 * bench/content_process.ts '{"transports":["quic"]}'`
 *
 * @module
 */
import { Node } from "../src/api/node.ts";
import type { DownloadProgress } from "../src/content/download.ts";
import type { Codec } from "../src/content/hash.ts";
import { loadHasher } from "../src/content/hash.ts";
import { Mcid } from "../src/content/mcid.ts";
import { GROUP_SIZE, groupCount, groupLength, groupMatches, hashBytes, leavesMatch } from "../src/content/tree.ts";
import { KeyPair } from "../src/identity/ed25519.ts";
import { NodeId } from "../src/identity/node-id.ts";
import { Logger } from "../src/log/logger.ts";
import { forEachLine } from "../scripts/process.ts";
import { rawQuicOptions, receiveRawQuic, receiveRawTcp, serveRawQuic, serveRawTcp } from "./raw_links.ts";

/** How the bench starts a node process. */
export interface ProcessConfig {
  /** Links of the node. */
  transports: ("quic" | "tcp")[];
  /** Data dir (content store on disk under it); none: the content store is in memory. */
  dataDir?: string;
  /** The node's serving cap, bytes/s (0 or none: unlimited). */
  uploadRate?: number;
  /** Store quota, bytes. */
  quota?: number;
  /** Provide fetched content in turn (default true, as in the service). */
  provide?: boolean;
  /** Also serve raw QUIC and raw TCP sources (the baselines). */
  raw?: boolean;
}

/** The first line a node process prints. */
export interface ProcessReady {
  id: string;
  addrs: string[];
  rawQuic?: { host: string; port: number };
  rawTcp?: { host: string; port: number };
}

/** The commands a node process answers. */
export type Command =
  /** Write `size` pseudo-random bytes (from `seed`) to `path`. */
  | { op: "generate"; path: string; size: number; seed: number }
  /** `content.publish(path)`; answers `{mcid, seconds}`. */
  | { op: "publish"; path: string; codec?: Codec }
  /** Connect to these addresses. */
  | { op: "connect"; addrs: string[] }
  /**
   * Download the `drain` MCIDs (to empty the providers' upload buckets), then
   * time `content.fetch(mcid)` consumed to its end; answers `{seconds, bytes,
   * progress}`. Everything fetched is removed afterwards, so the next run
   * fetches it again.
   */
  | { op: "fetch"; mcid: string; drain?: string[] }
  /** Receive `bytes` from a raw source; answers `{seconds}`. */
  | { op: "raw"; kind: "quic" | "tcp"; host: string; port: number; id: string; bytes: number }
  /**
   * `runs` times: publish `size` random bytes held in memory, timed, then
   * remove them; then check every group against its leaf, timed. Answers
   * `{publish: MB/s[], verify: MB/s[]}`.
   */
  | { op: "hash"; size: number; codec: Codec; runs: number }
  | { op: "stop" };

const MB = 1e6;

/** Fill `out` with xorshift32 words from `state`; returns the next state. */
function fillPseudoRandom(out: Uint32Array, state: number): number {
  let x = state;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x;
  }
  return x;
}

async function generate(path: string, size: number, seed: number): Promise<void> {
  const chunk = new Uint32Array(1 << 18); // 1 MiB
  const bytes = new Uint8Array(chunk.buffer);
  let state = (seed * 2654435761) >>> 0 || 1;
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    for (let off = 0; off < size; off += bytes.length) {
      state = fillPseudoRandom(chunk, state);
      const part = bytes.subarray(0, Math.min(bytes.length, size - off));
      for (let w = 0; w < part.length;) w += await file.write(part.subarray(w));
    }
  } finally {
    file.close();
  }
}

async function consume(stream: ReadableStream<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const chunk of stream) n += chunk.length;
  return n;
}

async function fetchTimed(node: Node, mcid: string, drain: string[]): Promise<Record<string, unknown>> {
  const id = Mcid.parse(mcid);
  await Promise.all(drain.map((d) => node.content.download(d)));
  let progress: DownloadProgress | undefined;
  const start = performance.now();
  const bytes = await consume(node.content.fetch(id, { onProgress: (p) => progress = p }));
  const seconds = (performance.now() - start) / 1000;
  await new Promise((resolve) => setTimeout(resolve, 0)); // the last progress report
  if (bytes !== id.size) throw new Error(`fetched ${bytes} of ${id.size} bytes`);
  for (const m of [mcid, ...drain]) await node.content.remove(m);
  return { seconds, bytes, progress };
}

async function hashFigures(node: Node, size: number, codec: Codec, runs: number): Promise<Record<string, unknown>> {
  const data = new Uint8Array(size);
  for (let off = 0; off < size; off += 65536) crypto.getRandomValues(data.subarray(off, off + 65536));
  const publish: number[] = [];
  const verify: number[] = [];
  const h = await loadHasher(codec);
  const { mcid, leaves } = await hashBytes(data, codec);
  for (let run = 0; run < runs; run++) {
    let start = performance.now();
    const published = await node.content.publish(data, { codec });
    publish.push(size / MB / ((performance.now() - start) / 1000));
    if (!published.equals(mcid)) throw new Error("publish and hashBytes disagree");
    await node.content.remove(published);
    // What a fetcher does: the leaves against the root once, then each group against its leaf.
    start = performance.now();
    if (!leavesMatch(h, mcid, leaves)) throw new Error("leaves do not match the root");
    for (let i = 0; i < groupCount(size); i++) {
      const at = i * GROUP_SIZE;
      if (!groupMatches(h, leaves, size, i, data.subarray(at, at + groupLength(i, size)))) {
        throw new Error(`group ${i} does not verify`);
      }
    }
    verify.push(size / MB / ((performance.now() - start) / 1000));
  }
  return { publish, verify };
}

async function run(node: Node, command: Command): Promise<Record<string, unknown>> {
  switch (command.op) {
    case "generate":
      await generate(command.path, command.size, command.seed);
      return {};
    case "publish": {
      const start = performance.now();
      const mcid = await node.content.publish(command.path, { codec: command.codec, pin: true });
      return { mcid: mcid.toString(), seconds: (performance.now() - start) / 1000 };
    }
    case "connect":
      for (const addr of command.addrs) await node.connect(addr);
      return {};
    case "fetch":
      return await fetchTimed(node, command.mcid, command.drain ?? []);
    case "raw": {
      const server = { host: command.host, port: command.port };
      if (command.kind === "tcp") return { seconds: await receiveRawTcp(server, command.bytes) };
      const endpoint = new Deno.QuicEndpoint({ hostname: command.host, port: 0 });
      try {
        const options = rawQuicOptions(endpoint, server, NodeId.fromDid(command.id));
        return { seconds: await receiveRawQuic(options, command.bytes) };
      } finally {
        endpoint.close();
      }
    }
    case "hash":
      return await hashFigures(node, command.size, command.codec, command.runs);
    case "stop":
      throw new Error("stop is handled by the command loop");
  }
}

if (import.meta.main) {
  const config = JSON.parse(Deno.args[0] ?? "{}") as ProcessConfig;
  const host = "127.0.0.1";
  const keyPair = KeyPair.generate();
  const node = await Node.start({
    keyPair,
    host,
    port: 0,
    transports: config.transports,
    dataDir: config.dataDir,
    logger: Logger.silent(),
    relay: false,
    punch: false,
    nat: false,
    content: { uploadRate: config.uploadRate, quota: config.quota, provide: config.provide },
  });
  const ready: ProcessReady = { id: node.id.did, addrs: node.addrs };
  if (config.raw) {
    const quic = serveRawQuic(keyPair, host);
    const tcp = serveRawTcp(host);
    ready.rawQuic = { host, port: quic.port };
    ready.rawTcp = { host, port: tcp.port };
  }
  const out = (line: Record<string, unknown>) => console.log(JSON.stringify(line));
  out(ready as unknown as Record<string, unknown>);
  // One command at a time, in order; `stop` (or the end of stdin) stops the node and exits.
  let queue = Promise.resolve();
  const stop = async () => {
    await node.stop();
    Deno.exit(0);
  };
  await forEachLine(Deno.stdin.readable, (line) => {
    if (!line.trim()) return;
    queue = queue.then(async () => {
      const command = JSON.parse(line) as Command;
      if (command.op === "stop") return await stop();
      try {
        out({ ok: true, ...await run(node, command) });
      } catch (error) {
        out({ ok: false, error: error instanceof Error ? error.message : String(error) });
      }
    });
  });
  await queue;
  await stop();
}

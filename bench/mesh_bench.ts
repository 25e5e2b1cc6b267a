/**
 * Mesh services benchmark: pub/sub and RPC between two nodes (the other one
 * in a child process, `mesh_server.ts`, over QUIC on loopback) and DHT
 * lookups in a 100-node in-process network — each figure next to a baseline
 * measured in the same run:
 *
 * - pub/sub 64 B messages/s, and one-way latency p50/p99 of paced messages;
 * - RPC calls/s (64 in flight) and sequential p50/p99 vs. a raw Deno QUIC
 *   64 B round trip to the same process;
 * - DHT lookup latency p50/p99 (100 nodes, in memory) vs. one DHT request
 *   round trip between two of those nodes.
 *
 * Targets: ≥ 100,000 pub/sub messages/s; RPC p50 ≤ 2 × raw QUIC round trip.
 *
 * Run: `deno task bench:mesh` (add `--quick` for fewer samples).
 *
 * @module
 */
import { KeyPair } from "../src/identity/ed25519.ts";
import type { NodeId } from "../src/identity/node-id.ts";
import { Logger } from "../src/log/logger.ts";
import { Node } from "../src/api/node.ts";
import { serverNameFor, trustAnchor } from "../src/secure/certificate.ts";
import { MemoryNetwork } from "../src/transport/memory.ts";
import { parseAddress } from "../src/transport/address.ts";
import { firstLine } from "../scripts/process.ts";

const QUICK = Deno.args.includes("--quick");
const MESSAGES = QUICK ? 50_000 : 200_000;
const PACED = QUICK ? 500 : 2_000;
const RPC_SECONDS = QUICK ? 1 : 3;
const SEQUENTIAL = QUICK ? 500 : 2_000;
const LOOKUPS = QUICK ? 100 : 500;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

async function startServer() {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-net", "--unstable-net", new URL("./mesh_server.ts", import.meta.url).pathname],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const info = JSON.parse(await firstLine(child.stdout, "mesh_server")) as {
    addr: string;
    rawQuicPort: number;
    id: string;
  };
  return {
    info,
    async stop() {
      await child.stdin.close().catch(() => {});
      await child.status;
    },
  };
}

/** A raw Deno QUIC stream to the server's echo endpoint: one 64 B round trip per call. */
async function rawQuicEcho(port: number, serverId: NodeId): Promise<{ roundTrip(): Promise<number>; close(): void }> {
  const conn = await Deno.connectQuic({
    hostname: "127.0.0.1",
    port,
    alpnProtocols: ["bench-raw"],
    serverName: serverNameFor(serverId.bytes),
    caCerts: [trustAnchor(serverId.bytes)],
  });
  const stream = await conn.createBidirectionalStream();
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  const msg = new Uint8Array(64);
  return {
    async roundTrip() {
      const t = performance.now();
      await writer.write(msg);
      let got = 0;
      while (got < 64) got += (await reader.read()).value!.length;
      return performance.now() - t;
    },
    close: () => conn.close(),
  };
}

const rows: Array<[string, string, string, string]> = [];
const json: Record<string, unknown> = {};

const server = await startServer();
const client = await Node.start({
  keyPair: KeyPair.generate(),
  host: "127.0.0.1",
  port: 0,
  transports: ["quic"],
  logger: Logger.silent(),
});
try {
  await client.connect(server.info.addr);
  await new Promise((r) => setTimeout(r, 300)); // identify, DHT join, subscription announcement
  const serverId = parseAddress(server.info.addr).id!;

  // ---- pub/sub throughput: publish as fast as backpressure allows, count at the receiver
  const payload = new Uint8Array(64);
  const stamp = () => new DataView(payload.buffer).setFloat64(0, performance.timeOrigin + performance.now());
  const received = async () => await client.call("bench.count", null) as number;
  const burst = async (n: number) => {
    const base = await received();
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const p = client.publish("bench.msg", payload);
      if (i % 1000 === 999) await p;
    }
    await client.pubsub.flush(60_000);
    let got = 0;
    while ((got = (await received()) - base) < n && performance.now() - start < 60_000) {
      await new Promise((r) => setTimeout(r, 2));
    }
    return { got, rate: got / ((performance.now() - start) / 1000) };
  };
  await burst(QUICK ? 20_000 : 50_000); // warm-up (JIT)
  const bursts = [];
  for (let i = 0; i < (QUICK ? 1 : 3); i++) bursts.push(await burst(MESSAGES));
  const rate = percentile(bursts.map((b) => b.rate), 0.5);
  const got = bursts.reduce((n, b) => n + b.got, 0);
  rows.push([
    "pub/sub 64 B throughput",
    `${fmt(rate)} msg/s`,
    `${fmt(got)}/${fmt(MESSAGES * bursts.length)} received (median of ${bursts.length})`,
    "≥ 100,000 msg/s",
  ]);
  json.pubsubRate = rate;
  json.pubsubRuns = bursts.map((b) => b.rate);
  await client.call("bench.stats", null); // reset the latency sample

  // ---- pub/sub latency (paced)
  for (let i = 0; i < PACED; i++) {
    stamp();
    await client.publish("bench.msg", payload.slice());
    await new Promise((r) => setTimeout(r, 1));
  }
  await client.pubsub.flush();
  await new Promise((r) => setTimeout(r, 200));
  const paced = await client.call("bench.stats", null) as { latencies: number[] };
  const lat = paced.latencies;

  // ---- RPC sequential latency vs raw QUIC round trip, interleaved sample by sample
  // so that machine noise hits both alike.
  const raw = await rawQuicEcho(server.info.rawQuicPort, serverId);
  for (let i = 0; i < 300; i++) {
    await raw.roundTrip();
    await client.call("bench.echo", payload);
  }
  const rpc: number[] = [];
  const rawRtt: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    rawRtt.push(await raw.roundTrip());
    const t = performance.now();
    await client.call("bench.echo", payload);
    rpc.push(performance.now() - t);
  }
  raw.close();
  const rawP50 = percentile(rawRtt, 0.5);
  rows.push([
    "pub/sub one-way latency",
    `p50 ${fmt(percentile(lat, 0.5) * 1000)} µs, p99 ${fmt(percentile(lat, 0.99) * 1000)} µs`,
    `raw QUIC RTT p50 ${fmt(rawP50 * 1000)} µs`,
    "",
  ]);
  json.pubsubLatency = { p50: percentile(lat, 0.5), p99: percentile(lat, 0.99), samples: lat.length };
  const rpcP50 = percentile(rpc, 0.5);
  rows.push([
    "RPC round trip (64 B)",
    `p50 ${fmt(rpcP50 * 1000)} µs, p99 ${fmt(percentile(rpc, 0.99) * 1000)} µs`,
    `raw QUIC p50 ${fmt(rawP50 * 1000)} µs, p99 ${fmt(percentile(rawRtt, 0.99) * 1000)} µs (ratio ${
      fmt(rpcP50 / rawP50, 2)
    })`,
    "p50 ≤ 2× raw",
  ]);
  json.rpc = {
    p50: rpcP50,
    p99: percentile(rpc, 0.99),
    rawP50,
    rawP99: percentile(rawRtt, 0.99),
    ratio: rpcP50 / rawP50,
  };

  // ---- RPC throughput, 64 in flight
  let calls = 0;
  const until = performance.now() + RPC_SECONDS * 1000;
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (performance.now() < until) {
      await client.call("bench.echo", payload);
      calls++;
    }
  }));
  const callRate = calls / RPC_SECONDS;
  rows.push(["RPC calls/s (64 in flight)", `${fmt(callRate)} calls/s`, "", ""]);
  json.rpcRate = callRate;
} finally {
  await client.stop();
  await server.stop();
}

// ---- DHT lookups in a 100-node in-process network
{
  const network = new MemoryNetwork();
  const nodes: Node[] = [];
  for (let i = 0; i < 100; i++) {
    const n = await Node.start({
      keyPair: KeyPair.generate(),
      memory: { network, name: `b${i}` },
      logger: Logger.silent(),
    });
    if (i > 0) {
      await n.connect(nodes[Math.floor(Math.random() * nodes.length)].addrs[0]);
      while (n.dht.table("default").size === 0) await new Promise((r) => setTimeout(r, 1));
      await n.dht.lookup("default", n.dht.table("default").selfKey);
    }
    nodes.push(n);
  }
  const times: number[] = [];
  for (let i = 0; i < LOOKUPS; i++) {
    const a = nodes[Math.floor(Math.random() * 100)];
    const b = nodes[Math.floor(Math.random() * 100)];
    const t = performance.now();
    await a.dht.lookup("default", b.dht.table("default").selfKey);
    times.push(performance.now() - t);
  }
  const single: number[] = [];
  for (let i = 0; i < 500; i++) {
    const t = performance.now();
    await nodes[0].ping(nodes[1].id);
    single.push(performance.now() - t);
  }
  rows.push([
    "DHT lookup, 100 nodes (memory)",
    `p50 ${fmt(percentile(times, 0.5) * 1000)} µs, p99 ${fmt(percentile(times, 0.99) * 1000)} µs`,
    `one request RTT p50 ${fmt(percentile(single, 0.5) * 1000)} µs`,
    "",
  ]);
  json.dhtLookup = { p50: percentile(times, 0.5), p99: percentile(times, 0.99), requestP50: percentile(single, 0.5) };
  await Promise.all(nodes.map((n) => n.stop()));
}

const widths = [0, 1, 2, 3].map((i) =>
  Math.max(...rows.map((r) => r[i].length), ["figure", "ours", "baseline", "target"][i].length)
);
const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join("  ");
console.log(`\nMacula mesh bench — ${Deno.build.target}, ${navigator.hardwareConcurrency} CPUs, loopback, QUIC`);
console.log(line(["figure", "ours", "baseline", "target"]));
console.log(widths.map((w) => "-".repeat(w)).join("  "));
for (const r of rows) console.log(line(r));
console.log(`BENCH_JSON ${JSON.stringify(json)}`);
Deno.exit(0);

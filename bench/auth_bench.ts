/**
 * Authorization benchmark: what a closed realm costs, each figure next to
 * the open-realm figure measured in the same run.
 *
 * - the cached per-operation check (`AuthService.check`, and the node's
 *   whole hook chain `node.authorize`) for a peer whose chain was pulled
 *   and verified once: median ns per call over 100 batches of 1,000 calls
 *   (1e5 calls), next to the same call in an open realm;
 * - pub/sub 64 B messages/s and sequential RPC p50 between two in-memory
 *   nodes of a closed realm (both holding a namespace-confined `/macula`
 *   chain, so every message and call is decided) vs. two nodes of an open
 *   realm; the runs alternate so that noise hits both alike, and the
 *   pub/sub ratio is the median of the ratios of each pair of bursts.
 *
 * Goals: cached check ≤ 2 µs; closed msg/s ≥ 0.9× open; closed RPC p50 ≤ 1.1× open.
 *
 * Run: `deno task bench:auth` (add `--quick` for fewer samples).
 *
 * @module
 */
import { KeyPair } from "../src/identity/ed25519.ts";
import { Logger } from "../src/log/logger.ts";
import { Node, type NodeOptions } from "../src/api/node.ts";
import { MemoryNetwork } from "../src/transport/memory.ts";
import type { Operation } from "../src/node/authorize.ts";
import { namespacePolicy } from "../src/auth/namespace.ts";
import { delegate, signerFromKeyPair } from "../src/ucan/mod.ts";

const QUICK = Deno.args.includes("--quick");
const MESSAGES = QUICK ? 20_000 : 50_000;
const RUNS = QUICK ? 3 : 9;
const CALLS = QUICK ? 500 : 2_000;
const REALM = "plant";
const TOPIC = "io.acme.plant3.temp";

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

const authority = signerFromKeyPair(KeyPair.generate());
const exp = Math.floor(Date.now() / 1000) + 3600;

/** Two joined in-memory nodes; in the closed realm each holds `/macula` under io.acme.plant3. */
async function pair(closed: boolean): Promise<[Node, Node]> {
  const network = new MemoryNetwork();
  const options = (name: string): NodeOptions => ({
    keyPair: KeyPair.generate(),
    memory: { network, name },
    logger: Logger.silent(),
    realms: [REALM],
    auth: closed ? { realms: { [REALM]: { policy: "closed", authorities: [authority.did] } } } : {},
  });
  const a = await Node.start(options("a"));
  const b = await Node.start(options("b"));
  if (closed) {
    for (const n of [a, b]) {
      n.auth.addChain([
        delegate(authority, {
          aud: n.did,
          sub: authority.did,
          cmd: "/macula",
          pol: namespacePolicy("io.acme.plant3"),
          exp,
        }),
      ]);
    }
  }
  await b.connect(a.addrs[0]);
  while (b.dht.table(REALM).size === 0) await new Promise((r) => setTimeout(r, 1));
  return [a, b];
}

/** Median ns per call of `fn` over `batches` batches of 1,000 calls. */
function nsPerCall(fn: () => unknown, batches = 100): number {
  const per: number[] = [];
  for (let i = 0; i < batches; i++) {
    const t = performance.now();
    for (let j = 0; j < 1000; j++) fn();
    per.push((performance.now() - t) * 1000); // ms per 1000 calls → ns per call
  }
  return median(per);
}

const rows: Array<[string, string, string, string, string]> = [];
const json: Record<string, unknown> = {};
const [openA, openB] = await pair(false);
const [closedA, closedB] = await pair(true);
try {
  // ---- (a) the cached check
  const op: Operation = { kind: "publish", name: TOPIC, realm: REALM };
  const warm = await closedA.auth.check(closedB.id, op);
  if (warm !== true) throw new Error("the closed-realm peer should be admitted");
  if (closedA.auth.check(closedB.id, op) !== true) throw new Error("a cached decision should be synchronous");
  nsPerCall(() => closedA.auth.check(closedB.id, op), 20); // warm-up (JIT)
  nsPerCall(() => openA.auth.check(openB.id, op), 20);
  const checks = { closed: [] as number[], open: [] as number[], closedNode: [] as number[], openNode: [] as number[] };
  for (let r = 0; r < 5; r++) {
    checks.closed.push(nsPerCall(() => closedA.auth.check(closedB.id, op), 20));
    checks.open.push(nsPerCall(() => openA.auth.check(openB.id, op), 20));
    checks.closedNode.push(nsPerCall(() => closedA.authorize(closedB.id, op), 20));
    checks.openNode.push(nsPerCall(() => openA.authorize(openB.id, op), 20));
  }
  const [cClosed, cOpen, nClosed, nOpen] = [checks.closed, checks.open, checks.closedNode, checks.openNode].map(median);
  rows.push(["cached check (AuthService.check)", `${fmt(cClosed)} ns`, `${fmt(cOpen)} ns`, "", "≤ 2,000 ns"]);
  rows.push(["cached check (node.authorize, all hooks)", `${fmt(nClosed)} ns`, `${fmt(nOpen)} ns`, "", "≤ 2,000 ns"]);
  json.check = { closedNs: cClosed, openNs: cOpen, nodeClosedNs: nClosed, nodeOpenNs: nOpen, calls: 100_000 };

  // ---- (b) pub/sub throughput and RPC latency, open vs closed, alternating
  const counts = new Map<Node, number>([[openB, 0], [closedB, 0]]);
  for (const b of [openB, closedB]) b.subscribe("io.acme.plant3.>", () => counts.set(b, counts.get(b)! + 1));
  for (const b of [openB, closedB]) {
    b.advertise("io.acme.plant3.echo", (args) => args);
    await b.pubsub.whenAnnounced();
  }
  await openA.pubsub.ready(TOPIC);
  await closedA.pubsub.ready(TOPIC);
  const payload = new Uint8Array(64);
  const burst = async (a: Node, b: Node, n: number) => {
    const base = counts.get(b)!;
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const p = a.publish(TOPIC, payload);
      if (i % 1000 === 999) await p;
    }
    await a.pubsub.flush(60_000);
    while (counts.get(b)! - base < n && performance.now() - start < 60_000) await new Promise((r) => setTimeout(r, 1));
    return (counts.get(b)! - base) / ((performance.now() - start) / 1000);
  };
  await burst(openA, openB, 10_000); // warm-up
  await burst(closedA, closedB, 10_000);
  // Alternate (open first on even runs, closed first on odd ones) and take the median of each pair's ratio.
  const rates = { open: [] as number[], closed: [] as number[] };
  const ratios: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    let open: number, closed: number;
    if (r % 2 === 0) {
      open = await burst(openA, openB, MESSAGES);
      closed = await burst(closedA, closedB, MESSAGES);
    } else {
      closed = await burst(closedA, closedB, MESSAGES);
      open = await burst(openA, openB, MESSAGES);
    }
    rates.open.push(open);
    rates.closed.push(closed);
    ratios.push(closed / open);
  }
  const [rOpen, rClosed, ratio] = [median(rates.open), median(rates.closed), median(ratios)];
  rows.push([
    "pub/sub 64 B msg/s (2 nodes, memory)",
    `${fmt(rClosed)} msg/s`,
    `${fmt(rOpen)} msg/s`,
    `${fmt(ratio, 2)}×`,
    "≥ 0.9×",
  ]);
  json.pubsub = { closed: rClosed, open: rOpen, ratio, ratios, runs: rates };

  for (let i = 0; i < 200; i++) {
    await openA.call("io.acme.plant3.echo", payload, { realm: REALM });
    await closedA.call("io.acme.plant3.echo", payload, { realm: REALM });
  }
  const lat = { open: [] as number[], closed: [] as number[] };
  for (let i = 0; i < CALLS; i++) {
    let t = performance.now();
    await openA.call("io.acme.plant3.echo", payload, { realm: REALM });
    lat.open.push(performance.now() - t);
    t = performance.now();
    await closedA.call("io.acme.plant3.echo", payload, { realm: REALM });
    lat.closed.push(performance.now() - t);
  }
  const [pOpen, pClosed] = [median(lat.open), median(lat.closed)];
  rows.push([
    "RPC p50, 64 B (2 nodes, memory)",
    `${fmt(pClosed * 1000)} µs`,
    `${fmt(pOpen * 1000)} µs`,
    `${fmt(pClosed / pOpen, 2)}×`,
    "≤ 1.1×",
  ]);
  json.rpc = { closedP50: pClosed, openP50: pOpen, ratio: pClosed / pOpen, calls: CALLS };
} finally {
  await Promise.all([openA, openB, closedA, closedB].map((n) => n.stop()));
}

const head: [string, string, string, string, string] = ["figure", "closed realm", "open realm", "ratio", "goal"];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join("  ");
console.log(`\nMacula auth bench — ${Deno.build.target}, ${navigator.hardwareConcurrency} CPUs, in-memory nodes`);
console.log(line(head));
console.log(widths.map((w) => "-".repeat(w)).join("  "));
for (const r of rows) console.log(line(r));
console.log(`BENCH_JSON ${JSON.stringify(json)}`);
Deno.exit(0);

/**
 * Replicated state figures on in-memory nodes (real nodes, real protocol,
 * in-memory links):
 *
 * - convergence after a heal: 8 nodes in a full mesh, split 4 | 4 (every
 *   cross connection closed), 50 concurrent writes on each side (20 of
 *   them on keys both sides write), then every cross pair reconnects; the
 *   time from the first reconnect until all 8 replicas are equal. Median
 *   of the runs.
 * - local writes: `map.set` per second on a node whose 7 peers hold the
 *   map (gossip included), and on a bare `Replica`; and the time until the
 *   last of 20,000 writes is on every peer.
 *
 * Run: `deno task bench:state [runs, default 7]`. Ends with one
 * `BENCH_JSON {...}` line.
 *
 * @module
 */
import { KeyPair } from "../src/identity/ed25519.ts";
import { Logger } from "../src/log/logger.ts";
import { Node } from "../src/api/node.ts";
import { MemoryNetwork } from "../src/transport/memory.ts";
import { DialError } from "../src/transport/errors.ts";
import { Replica } from "../src/state/replica.ts";
import type { StateMap } from "../src/state/state-map.ts";

const RUNS = Number(Deno.args[0] ?? 7);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function until(what: string, ms: number, predicate: () => boolean): Promise<void> {
  const deadline = performance.now() + ms;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

/** An in-memory network that refuses dials across a partition (`side` of each node name). */
class PartitionedNetwork extends MemoryNetwork {
  split = false;
  readonly side = new Map<string, number>();
  override connect(...args: Parameters<MemoryNetwork["connect"]>): ReturnType<MemoryNetwork["connect"]> {
    const [name, , localName] = args;
    if (this.split && this.side.get(name) !== this.side.get(localName)) throw new DialError("partitioned");
    return super.connect(...args);
  }
}

async function mesh(n: number): Promise<Node[] & { network: PartitionedNetwork }> {
  const network = new PartitionedNetwork();
  const nodes: Node[] = [];
  for (let i = 0; i < n; i++) {
    nodes.push(
      await Node.start({
        keyPair: KeyPair.generate(),
        memory: { network, name: `b${i}` },
        logger: Logger.silent(),
      }),
    );
    network.side.set(`b${i}`, i < n / 2 ? 0 : 1);
  }
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) await nodes[i].connect(nodes[j].addrs[0]);
  return Object.assign(nodes, { network });
}

const snapshot = (m: StateMap) => JSON.stringify(m.entries().sort(([a], [b]) => a < b ? -1 : 1));
const connected = (a: Node, b: Node) => a.connection(b.id) !== undefined && b.connection(a.id) !== undefined;

async function healRun(run: number): Promise<{ healMs: number; splitOk: boolean }> {
  const nodes = await mesh(8);
  try {
    const maps = await Promise.all(nodes.map((n) => n.state.open("fleet")));
    const [left, right] = [nodes.slice(0, 4), nodes.slice(4)];
    nodes.network.split = true;
    const cut = () => {
      for (const a of left) for (const b of right) a.connection(b.id)?.close(), b.connection(a.id)?.close();
      return left.every((a) => right.every((b) => !a.connection(b.id) && !b.connection(a.id)));
    };
    // Split until no cross connection shows up for 100 ms (dials in flight when the cut began complete first).
    for (let quiet = 0; quiet < 100;) {
      quiet = cut() ? quiet + 10 : 0;
      await sleep(10);
    }
    for (let i = 0; i < 50; i++) {
      maps[i % 4].set(i < 20 ? `shared-${i}` : `left-${run}-${i}`, { side: "left", i });
      maps[4 + (i % 4)].set(i < 20 ? `shared-${i}` : `right-${run}-${i}`, { side: "right", i });
    }
    await sleep(100); // each side settles on its own
    const splitOk = left.every((a) => right.every((b) => !a.connection(b.id)));
    if (!splitOk) {
      for (const a of left) {
        for (const b of right) {
          const c = a.connection(b.id);
          if (c) console.log("leak", c.transport, c.relayed, c.direction, c.isClosed);
        }
      }
    }
    if (snapshot(maps[0]) === snapshot(maps[4])) throw new Error("the sides converged before the heal");
    nodes.network.split = false;
    const start = performance.now();
    await Promise.all(left.flatMap((a) => right.map((b) => a.connect(b.addrs[0]))));
    await until("convergence", 20_000, () => maps.every((m) => snapshot(m) === snapshot(maps[0])));
    const healMs = performance.now() - start;
    if (maps[0].size !== 20 + 30 + 30) throw new Error(`expected 80 keys, got ${maps[0].size}`);
    if (!left.every((a) => right.every((b) => connected(a, b)))) throw new Error("not healed");
    return { healMs, splitOk };
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
}

async function writeRun(): Promise<{ nodeOps: number; replicaOps: number; spreadMs: number }> {
  const N = 20_000;
  const replica = new Replica("ab".repeat(32));
  let t = performance.now();
  for (let i = 0; i < N; i++) replica.set(`k${i % 500}`, i);
  const replicaOps = N / ((performance.now() - t) / 1000);
  const nodes = await mesh(8);
  try {
    const maps = await Promise.all(nodes.map((n) => n.state.open("load")));
    await until("holders known", 5000, () => (nodes[0].state.status().maps as Array<{ peers: number }>)[0].peers === 7);
    t = performance.now();
    for (let i = 0; i < N; i++) maps[0].set(`k${i % 500}`, i);
    const nodeOps = N / ((performance.now() - t) / 1000);
    await until("spread", 30_000, () => maps.every((m) => m.get("k499") === N - 1));
    const spreadMs = performance.now() - t;
    return { nodeOps, replicaOps, spreadMs };
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
}

const heals: number[] = [];
for (let r = 0; r < RUNS; r++) {
  const { healMs, splitOk } = await healRun(r);
  heals.push(healMs);
  console.log(`run ${r + 1}: converged ${healMs.toFixed(1)} ms after the heal${splitOk ? "" : " (split leaked)"}`);
}
const writes = [];
for (let r = 0; r < 3; r++) writes.push(await writeRun());
const figures = {
  healMedianMs: Number(median(heals).toFixed(1)),
  healMaxMs: Number(Math.max(...heals).toFixed(1)),
  nodeWritesPerS: Math.round(median(writes.map((w) => w.nodeOps))),
  replicaWritesPerS: Math.round(median(writes.map((w) => w.replicaOps))),
  spread20kMs: Math.round(median(writes.map((w) => w.spreadMs))),
};
console.log(
  `8 nodes, 4|4 split, 50 writes per side: convergence after the heal, median of ${RUNS}: ${figures.healMedianMs} ms (max ${figures.healMaxMs} ms)`,
);
console.log(
  `local writes: ${figures.nodeWritesPerS}/s on a node with 7 holder peers, ${figures.replicaWritesPerS}/s on a bare replica; 20,000 writes on all 8 nodes after ${figures.spread20kMs} ms`,
);
console.log(`BENCH_JSON ${JSON.stringify(figures)}`);

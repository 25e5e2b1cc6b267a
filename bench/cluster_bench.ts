/**
 * Clustering benchmark: time to full membership and membership traffic for
 * clusters of 5, 10 and 20 real `macula start` processes.
 *
 * As root, every node runs in its own network namespace on a bridge
 * (`tests/helpers/netns.ts`), like boards on a LAN; otherwise all run on
 * 127.0.0.1 sharing the multicast port (printed as such).
 *
 * - Time to full membership, all at once: all N processes are started
 *   together; for each node, the time from the last node's "clustering
 *   started" log line until it has logged every other node up. Median and
 *   max over nodes, median over runs (3, or 1 with `--quick`). On one
 *   2-core machine this includes N processes booting on the same CPUs;
 *   baseline from the same run: process start until the node's status
 *   endpoint answers ("ready").
 * - Late joiner: once the N nodes have settled (10 s), one more node starts; the
 *   time from its "clustering started" line until it has logged all N up and
 *   all N have logged it up — discovery without the boot contention.
 * - Traffic: after formation and a 5 s settle, UDP payload bytes and
 *   datagrams each node sent over 20 s (10 s with `--quick`), from
 *   `macula_cluster_bytes_sent_total` / `macula_cluster_datagrams_sent_total`,
 *   per node per second, by message type.
 *
 * Run: `deno task bench:cluster [--quick] [--sizes 5,10,20]`
 * (`deno run --allow-all --unstable-net bench/cluster_bench.ts`; root for namespaces).
 *
 * @module
 */
import { NetnsLab, netnsUnavailable } from "../tests/helpers/netns.ts";
import { type NodeProcess, scratchDir, startNode } from "../tests/helpers/cli.ts";
import { formationFigures, fullMembership, type LogEntry, logged, median, time } from "../tests/cluster/cli_logs.ts";

const QUICK = Deno.args.includes("--quick");
const sizesArg = Deno.args[Deno.args.indexOf("--sizes") + 1];
const SIZES = Deno.args.includes("--sizes") ? sizesArg.split(",").map(Number) : [5, 10, 20];
const RUNS = QUICK ? 1 : 3;
const TRAFFIC_SECONDS = QUICK ? 10 : 20;
/** Wait after formation before the late joiner starts (the cluster finishes dialing and settles). */
const SETTLE_MS = 10_000;
const SECRET = `bench-${crypto.randomUUID()}`;

interface BenchNode {
  logs: LogEntry[];
  did: string;
  readyMs: number;
  metrics(): Promise<string>;
}

interface Cluster {
  nodes: BenchNode[];
  /** Start one more node. */
  add(): Promise<BenchNode>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function netnsCluster(n: number): Promise<Cluster> {
  const lab = await NetnsLab.create(n + 1);
  const start = async (i: number): Promise<BenchNode> => {
    const t0 = Date.now();
    const node = await lab.startNode(lab.hosts[i], ["--cluster-secret", SECRET]);
    return {
      get logs() {
        return node.logs;
      },
      did: node.did,
      readyMs: Date.now() - t0,
      metrics: async () => String(await lab.get(node, "/metrics")),
    };
  };
  try {
    const nodes = await Promise.all(Array.from({ length: n }, (_, i) => start(i)));
    return { nodes, add: () => start(n), stop: () => lab.destroy() };
  } catch (error) {
    await lab.destroy();
    throw error;
  }
}

async function loopbackCluster(n: number): Promise<Cluster> {
  const dir = await scratchDir();
  const r = () => 1 + Math.floor(Math.random() * 250);
  const cluster = ["--cluster-group", `239.79.${r()}.${r()}`, "--cluster-port", String(40000 + r() * 80)];
  const procs: NodeProcess[] = [];
  const start = async (i: number): Promise<BenchNode> => {
    const t0 = Date.now();
    const p = await startNode(["--data-dir", `${dir.path}/n${i}`, "--log-format", "json", ...cluster], {
      env: { CLUSTER_STRATEGY: "gossip", CLUSTER_SECRET: SECRET },
    });
    procs.push(p);
    const parse = () =>
      p.lines.flatMap((l) => {
        try {
          return [JSON.parse(l) as LogEntry];
        } catch {
          return [];
        }
      });
    return {
      get logs() {
        return parse();
      },
      did: String(parse().find((l) => l.msg === "node started")?.id),
      readyMs: Date.now() - t0,
      metrics: async () => await (await fetch(`http://127.0.0.1:${p.healthPort}/metrics`)).text(),
    };
  };
  try {
    const nodes = await Promise.all(Array.from({ length: n }, (_, i) => start(i)));
    return {
      nodes,
      add: () => start(n),
      stop: async () => {
        for (const p of procs) await p.stop("SIGKILL");
        await dir.cleanup();
      },
    };
  } catch (error) {
    for (const p of procs) await p.stop("SIGKILL");
    await dir.cleanup();
    throw error;
  }
}

async function waitFull(nodes: BenchNode[], what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!fullMembership(nodes)) {
    if (Date.now() > deadline) throw new Error(`no full membership (${what}) after 30 s`);
    await sleep(50);
  }
}

function sumSeries(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = new RegExp(`^${name}\\{type="([^"]+)"\\} (\\d+)`).exec(line);
    if (m) out.set(m[1], (out.get(m[1]) ?? 0) + Number(m[2]));
  }
  return out;
}

async function traffic(nodes: BenchNode[]) {
  const snap = async () => {
    const texts = await Promise.all(nodes.map((n) => n.metrics()));
    const bytes = new Map<string, number>();
    let datagrams = 0;
    for (const t of texts) {
      for (const [k, v] of sumSeries(t, "macula_cluster_bytes_sent_total")) bytes.set(k, (bytes.get(k) ?? 0) + v);
      for (const v of sumSeries(t, "macula_cluster_datagrams_sent_total").values()) datagrams += v;
    }
    return { bytes, datagrams, at: Date.now() };
  };
  const a = await snap();
  await sleep(TRAFFIC_SECONDS * 1000);
  const b = await snap();
  const seconds = (b.at - a.at) / 1000;
  const per = (x: number) => x / nodes.length / seconds;
  const byType: Record<string, number> = {};
  let total = 0;
  for (const [k, v] of b.bytes) {
    const d = v - (a.bytes.get(k) ?? 0);
    total += d;
    if (d > 0) byType[k] = Math.round(per(d));
  }
  return { bytesPerNodeSec: Math.round(per(total)), datagramsPerNodeSec: per(b.datagrams - a.datagrams), byType };
}

const skip = await netnsUnavailable({ iptables: false });
const mode = skip ? "loopback (one host)" : "network namespaces on a bridge";
console.log(`cluster bench: ${mode}${skip ? ` — ${skip}` : ""}; sizes ${SIZES.join(", ")}; ${RUNS} run(s) each`);
const results = [];
for (const n of SIZES) {
  const runs: Array<{ median: number; max: number; join: number; ready: number; late: number }> = [];
  let load: Awaited<ReturnType<typeof traffic>> | undefined;
  for (let run = 0; run < RUNS; run++) {
    const cluster = skip ? await loopbackCluster(n) : await netnsCluster(n);
    try {
      await waitFull(cluster.nodes, `${n} nodes`);
      const f = formationFigures(cluster.nodes);
      const ready = median(cluster.nodes.map((x) => x.readyMs));
      await sleep(SETTLE_MS);
      const joiner = await cluster.add();
      const all = [...cluster.nodes, joiner];
      await waitFull(all, "late joiner");
      const joined = time(logged(joiner.logs, "clustering started")[0]);
      const late = Math.max(
        ...cluster.nodes.map((x) => time(logged(joiner.logs, "cluster member up", x.did)[0])),
        ...cluster.nodes.map((x) => time(logged(x.logs, "cluster member up", joiner.did)[0])),
      ) - joined;
      runs.push({ median: median(f.afterLast), max: Math.max(...f.afterLast), join: f.joinOfLast, ready, late });
      console.log(
        `  n=${n} run ${run + 1}: all at once: full membership median ${median(f.afterLast)} ms, max ${
          Math.max(...f.afterLast)
        } ms after the last start (process ready ${ready} ms); late joiner: everyone knows everyone ${late} ms after it started`,
      );
      if (run === RUNS - 1) {
        await sleep(5_000);
        load = await traffic(all);
        console.log(
          `  n=${n + 1} traffic: ${load.bytesPerNodeSec} B/s and ${
            load.datagramsPerNodeSec.toFixed(1)
          } datagrams/s sent per node (${JSON.stringify(load.byType)})`,
        );
      }
    } finally {
      await cluster.stop();
    }
  }
  results.push({
    n,
    fullMembershipMedianMs: median(runs.map((r) => r.median)),
    fullMembershipMaxMs: median(runs.map((r) => r.max)),
    processReadyMs: median(runs.map((r) => r.ready)),
    lateJoinMs: median(runs.map((r) => r.late)),
    ...load,
  });
}
console.log(
  "\n| nodes | all at once: full membership, median (max) | process ready (baseline) | late joiner: full membership | sent per node (n + 1 nodes) |",
);
console.log("| ----- | ----- | ----- | ----- | ----- |");
for (const r of results) {
  console.log(
    `| ${r.n} | ${r.fullMembershipMedianMs} ms (${r.fullMembershipMaxMs} ms) | ${r.processReadyMs} ms | ${r.lateJoinMs} ms | ${r.bytesPerNodeSec} B/s, ${
      r.datagramsPerNodeSec?.toFixed(1)
    } datagrams/s |`,
  );
}
console.log(`BENCH_JSON ${JSON.stringify({ mode, results })}`);

/**
 * Benchmark of the registry (issue 16, "Figures"): time to roll an update
 * to 8 nodes.
 *
 * One process, in-memory transport (`MemoryNetwork`, the same nodes and
 * services as on sockets, no kernel networking): a publisher and 8 nodes
 * joined in a star around it. Each of the 8 runs a "binary" of 4 MiB (a
 * shell script padded with a comment, so that it really runs and answers
 * `--version`) in its own directory. Timed: from `registry.publish` of the
 * new release on the publisher until all 8 `selfUpdate`s (find the release
 * through the DHT, fetch and verify it, install the candidate, health-check
 * it by running it, keep `.prev`, swap, check again) have resolved. Also
 * the per-node update times. 5 runs (3 with `--quick`), medians.
 *
 * Run: `deno run --allow-all --unstable-net bench/registry_bench.ts [--quick]`
 *
 * @module
 */
import { KeyPair } from "../src/identity/ed25519.ts";
import { Logger } from "../src/log/logger.ts";
import { Node } from "../src/api/node.ts";
import { MemoryNetwork } from "../src/transport/memory.ts";
import { currentPlatform } from "../src/platform/current.ts";
import { channelName, selfUpdate } from "../src/registry/self-update.ts";

const QUICK = Deno.args.includes("--quick");
const RUNS = QUICK ? 3 : 5;
const NODES = 8;
const SIZE = 4 * 1024 * 1024;
const platform = currentPlatform();

function binary(version: string): Uint8Array {
  const head = new TextEncoder().encode(`#!/bin/sh\necho "macula ${version} (linux-x86_64, bench)"\nexit 0\n`);
  const out = new Uint8Array(SIZE).fill(0x23); // '#': comment lines the shell never reads
  out.set(head);
  for (let i = head.length + 100; i < SIZE; i += 100) out[i] = 0x0a;
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function run(index: number): Promise<{ total: number; perNode: number[] }> {
  const network = new MemoryNetwork();
  const start = (name: string) =>
    Node.start({ keyPair: KeyPair.generate(), memory: { network, name }, logger: Logger.silent() });
  const pub = await start(`pub${index}`);
  const nodes: Node[] = [];
  const dir = await Deno.makeTempDir({ prefix: "macula-registry-bench-" });
  try {
    for (let i = 0; i < NODES; i++) {
      const n = await start(`n${index}-${i}`);
      await n.connect(pub.addrs[0]);
      nodes.push(n);
    }
    await new Promise((r) => setTimeout(r, 300)); // DHT tables settle
    const execs = await Promise.all(nodes.map(async (_, i) => {
      await Deno.mkdir(`${dir}/${i}`);
      const path = `${dir}/${i}/macula`;
      await Deno.writeFile(path, binary("1.0.0"), { mode: 0o755 });
      return path;
    }));
    const t0 = performance.now();
    await pub.registry.publish(binary("1.1.0"), { name: channelName("stable"), version: "1.1.0", arch: "x86_64" });
    const perNode = await Promise.all(nodes.map(async (n, i) => {
      const r = await selfUpdate(n.registry, {
        arch: "x86_64",
        current: "1.0.0",
        execPath: execs[i],
        fs: platform.fs,
        run: platform.process.run!.bind(platform.process),
      });
      if (!r.updated) throw new Error(`node ${i} did not update`);
      return performance.now() - t0;
    }));
    return { total: performance.now() - t0, perNode };
  } finally {
    await Promise.all([pub, ...nodes].map((n) => n.stop()));
    await Deno.remove(dir, { recursive: true });
  }
}

const totals: number[] = [];
const nodeTimes: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const r = await run(i);
  totals.push(r.total);
  nodeTimes.push(...r.perNode);
  console.log(
    `run ${i + 1}: all ${NODES} updated in ${r.total.toFixed(0)} ms (per node ${
      r.perNode.map((x) => x.toFixed(0)).join(", ")
    } ms)`,
  );
}
console.log(
  `\nroll a ${SIZE / 1024 / 1024} MiB update to ${NODES} nodes (in-memory, one process): median ${
    median(totals).toFixed(0)
  } ms over ${RUNS} runs; per-node median ${median(nodeTimes).toFixed(0)} ms, max ${
    Math.max(...nodeTimes).toFixed(0)
  } ms`,
);
console.log(`BENCH_JSON ${JSON.stringify({ rollout8_ms: median(totals), node_ms: median(nodeTimes), runs: RUNS })}`);

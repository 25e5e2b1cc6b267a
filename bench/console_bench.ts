/**
 * The web console's cost on a node:
 *
 * 1. event-stream overhead: a CLI node (`macula start`) with pub/sub
 *    traffic (a second CLI node subscribes, the bench publishes through the
 *    first one's status port); its CPU% from `/proc/<pid>/stat` over N
 *    windows with no console client and N windows with one SSE client
 *    (interleaved), medians and their ratio;
 * 2. the snapshot's size in bytes (as served, and with a full 600-point
 *    series, extrapolated);
 * 3. in process: the cost of one series sample and one snapshot build,
 *    and what sampling at 1 Hz always costs in CPU%.
 *
 * Run: `deno task bench:console [--windows N] [--window SECONDS] [--rate MSGS_PER_S]`.
 *
 * @module
 */
import { SeriesSampler } from "../src/console/series.ts";
import { SnapshotBuilder } from "../src/console/snapshot.ts";
import { currentPlatform } from "../src/platform/current.ts";
import { joinedNodes, MemoryNetwork } from "../tests/helpers/nodes.ts";

const args = Deno.args;
const flag = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const WINDOWS = flag("windows", 5);
const WINDOW_S = flag("window", 5);
const RATE = flag("rate", 50);
const ROOT = new URL("../", import.meta.url).pathname;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** utime + stime of `pid`, seconds. */
function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // CLK_TCK = 100 on Linux
}

interface Cli {
  child: Deno.ChildProcess;
  addrs: string[];
  http: string;
}

async function startCli(dataDir: string, extra: string[] = []): Promise<Cli> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--unstable-net",
      "main.ts",
      "start",
      "--data-dir",
      dataDir,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--health-port",
      "0",
      "--cluster-strategy",
      "off",
      "--log-format",
      "json",
      ...extra,
    ],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const lines = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let addrs: string[] = [];
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { done, value } = await lines.read();
    if (done) throw new Error(`node exited early:\n${buffer}`);
    buffer += value;
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      let entry: Record<string, string>;
      try {
        entry = JSON.parse(line);
      } catch {
        continue;
      }
      if (entry.msg === "node started") addrs = entry.addrs.split(" ");
      if (entry.msg === "status endpoint listening") {
        (async () => {
          while (!(await lines.read()).done) { /* drain the log */ }
        })().catch(() => {});
        return { child, addrs, http: entry.url.replace(/\/status$/, "") };
      }
    }
  }
  throw new Error("node not ready in 60 s");
}

async function stop(cli: Cli): Promise<void> {
  try {
    cli.child.kill("SIGTERM");
  } catch {
    // gone
  }
  await cli.child.status;
}

const tmp = await Deno.makeTempDir({ prefix: "console-bench-" });
const nodes: Cli[] = [];
try {
  const a = await startCli(`${tmp}/a`);
  nodes.push(a);
  const b = await startCli(`${tmp}/b`, ["--seed", a.addrs.find((x) => x.startsWith("quic://")) ?? a.addrs[0]]);
  nodes.push(b);
  // B subscribes (through its own status port); the bench publishes through A's.
  const subAbort = new AbortController();
  const sub = await fetch(`${b.http}/pubsub/subscribe?pattern=bench.%3E`, { signal: subAbort.signal });
  const subDone = sub.body!.pipeTo(new WritableStream(), { signal: subAbort.signal }).catch(() => {});
  await new Promise((r) => setTimeout(r, 2000)); // announcements settle
  let publishing = true;
  let published = 0;
  const publisher = (async () => {
    while (publishing) {
      const started = performance.now();
      const res = await fetch(`${a.http}/pubsub/publish`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ topic: "bench.load", payload: { n: published } }),
      });
      await res.body?.cancel();
      published++;
      const wait = 1000 / RATE - (performance.now() - started);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  await new Promise((r) => setTimeout(r, 2000)); // warm up
  const pid = a.child.pid;
  const off: number[] = [];
  const on: number[] = [];
  let events = 0;
  for (let w = 0; w < WINDOWS; w++) {
    for (const withClient of [false, true]) {
      let client: Promise<void> | undefined;
      const abort = new AbortController();
      if (withClient) {
        const res = await fetch(`${a.http}/console/events`, { signal: abort.signal });
        client = res.body!.pipeTo(
          new WritableStream({
            write(chunk) {
              events += new TextDecoder().decode(chunk).split("event: snapshot").length - 1;
            },
          }),
          { signal: abort.signal },
        ).catch(() => {});
        await new Promise((r) => setTimeout(r, 500));
      }
      const c0 = cpuSeconds(pid);
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
      const pct = (cpuSeconds(pid) - c0) / ((performance.now() - t0) / 1000) * 100;
      (withClient ? on : off).push(pct);
      console.log(`window ${w + 1} ${withClient ? "one SSE client" : "no client     "}: ${pct.toFixed(2)}% CPU`);
      abort.abort();
      await client;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  publishing = false;
  await publisher;
  const snapshotText = await (await fetch(`${a.http}/console/snapshot`)).text();
  const snapshot = JSON.parse(snapshotText);
  const points = snapshot.series.t.length;
  const seriesBytes = JSON.stringify(snapshot.series).length;
  const perPoint = points > 0 ? seriesBytes / points : 0;
  const compact = JSON.stringify(snapshot).length;
  const full = Math.round(compact - seriesBytes + perPoint * 600);
  subAbort.abort(); // an open response would hold B's shutdown
  await subDone;
  await stop(b);

  // In process: the cost of the sampler and of a snapshot on a node with a peer.
  const [x, y] = await joinedNodes(new MemoryNetwork(), 2);
  const platform = currentPlatform();
  const sampler = new SeriesSampler({ metrics: x.metrics.registry, rss: () => platform.process.memory().rss });
  const builder = new SnapshotBuilder(x, { series: () => sampler.series() });
  const N = 20_000;
  let t = performance.now();
  for (let i = 0; i < N; i++) sampler.sample(Date.now());
  const sampleUs = (performance.now() - t) * 1000 / N;
  t = performance.now();
  for (let i = 0; i < 2000; i++) JSON.stringify(builder.take());
  const snapshotUs = (performance.now() - t) * 1000 / 2000;
  await Promise.all([x.stop(), y.stop()]);

  const mOff = median(off);
  const mOn = median(on);
  console.log("");
  console.log(
    `pub/sub load: ${RATE} msg/s published through A to B (${published} in all); ${events} snapshot events read`,
  );
  console.log(
    `A's CPU, median of ${WINDOWS} windows of ${WINDOW_S} s: no console ${mOff.toFixed(2)}%, one SSE client ${
      mOn.toFixed(2)
    }%, difference ${(mOn - mOff).toFixed(2)} points, ratio ${(mOn / mOff).toFixed(2)}`,
  );
  console.log(
    `snapshot: ${snapshotText.length} bytes as served (pretty JSON, ${points} series points), ${compact} bytes as an SSE event; ` +
      `with a full 600-point series ≈ ${full} bytes`,
  );
  console.log(
    `in process: one series sample ${sampleUs.toFixed(2)} µs (1 Hz always = ${(sampleUs / 1e4).toFixed(5)}% CPU), ` +
      `one snapshot + JSON ${snapshotUs.toFixed(1)} µs (600 points)`,
  );
  console.log(
    `BENCH_JSON ${
      JSON.stringify({
        cpuNoClient: mOff,
        cpuOneClient: mOn,
        ratio: mOn / mOff,
        snapshotBytes: compact,
        snapshotFullSeriesBytes: full,
        sampleUs,
        snapshotUs,
      })
    }`,
  );
} finally {
  for (const n of nodes) await stop(n).catch(() => {});
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
}

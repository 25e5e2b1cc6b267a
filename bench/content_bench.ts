/**
 * Benchmark of content transfer (issue 12, "Figures"), every figure next
 * to a baseline measured in the same run on the same loopback:
 *
 * 1. fetch of 256 MiB from one provider (`node.content.fetch`, consumed to
 *    its end, fetcher storing on disk) vs a raw QUIC stream of the same
 *    size between the same two processes; the same over TCP + Noise vs raw
 *    TCP; with the CPU seconds per GB the fetcher and the provider spend on
 *    each (from /proc/<pid>/stat through `cat`);
 * 2. each provider capped at R bytes/s (`content: { uploadRate: R }`):
 *    fetch from 3 providers vs from 1 (goal ≥ 2.7×). Each timed fetch
 *    starts right after a download that empties the providers' token
 *    buckets, so their one-second burst does not flatter either side;
 * 3. duplicate bytes in (2): the fetcher's `duplicate` / `fetched` (goal
 *    ≤ 2 %);
 * 4. VmRSS of a fresh fetcher (on-disk store) during a 1 GiB fetch, read
 *    from /proc through `cat`: idle, peak, growth (goal ≤ 64 MiB); the
 *    provider's growth while serving it too;
 * 5. `content.publish` MB/s per codec (in memory, in one process), and
 *    verification MB/s (leaves against the root, each group against its
 *    leaf).
 *
 * Every node is a child process (`content_process.ts`, its own process
 * group), driven over stdin/stdout JSON lines and killed at the end. MB =
 * 10^6 bytes. Ends with one `BENCH_JSON {...}` line.
 *
 * Run: `deno task bench:content [--quick]`
 *
 * @module
 */
import type { DownloadProgress } from "../src/content/download.ts";
import type { Codec } from "../src/content/hash.ts";
import { forEachLine } from "../scripts/process.ts";
import type { Command, ProcessConfig, ProcessReady } from "./content_process.ts";

const QUICK = Deno.args.includes("--quick");
const MiB = 1024 * 1024;
const MB = 1e6;
/** Runs per figure (medians). */
const RUNS = QUICK ? 3 : 5;
/** Figure 1 size. */
const SINGLE = (QUICK ? 128 : 256) * MiB;
/**
 * Per-provider upload cap of figure 2, bytes/s: three of them (24 MB/s) stay
 * well below what one uncapped provider delivers here, so that the fetcher
 * is not what limits the 3-provider fetch.
 */
const RATE = 8 * MB;
/** Figure 2 size. */
const CAPPED = (QUICK ? 24 : 48) * MiB;
/** Figure 4 size. */
const LARGE = (QUICK ? 512 : 1024) * MiB;
/** Figure 5 size and runs. */
const HASHED = (QUICK ? 32 : 64) * MiB;
const HASH_RUNS = QUICK ? 3 : 5;
const CODECS: Codec[] = ["blake3", "sha256"];
const RSS_EVERY = 50; // ms

const progress = (text: string) => Deno.stderr.writeSync(new TextEncoder().encode(text));

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// ---------------------------------------------------------------- the node processes

interface Proc {
  name: string;
  pid: number;
  ready: ProcessReady;
  send(command: Command): Promise<Record<string, unknown>>;
}

const procs: { name: string; pid: number; child: Deno.ChildProcess }[] = [];

/** Kill every node process group (SIGKILL) and wait for them. Idempotent. */
async function killAll(): Promise<void> {
  for (const p of procs) {
    try {
      Deno.kill(-p.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await Promise.allSettled(procs.splice(0).map((p) => p.child.status));
}

async function spawnNode(name: string, config: ProcessConfig, dir: string): Promise<Proc> {
  const script = new URL("./content_process.ts", import.meta.url).pathname;
  // `setsid` execs: the child's pid is deno's, and it leads its own process group.
  const child = new Deno.Command("setsid", {
    args: [
      Deno.execPath(),
      "run",
      "--quiet",
      "--allow-net",
      `--allow-read=${dir}`,
      `--allow-write=${dir}`,
      "--allow-sys=networkInterfaces",
      "--unstable-net",
      script,
      JSON.stringify(config),
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  procs.push({ name, pid: child.pid, child });
  const waiting: { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }[] = [];
  let onReady: (r: ProcessReady) => void = () => {};
  const ready = new Promise<ProcessReady>((resolve) => onReady = resolve);
  let first = true;
  const reading = forEachLine(child.stdout, (line) => {
    const value = JSON.parse(line);
    if (first) {
      first = false;
      onReady(value);
    } else waiting.shift()?.resolve(value);
  });
  reading.finally(() => {
    for (const w of waiting.splice(0)) w.reject(new Error(`${name} exited`));
  }).catch(() => {});
  const exited = child.status.then((s) => {
    throw new Error(`${name} exited (${s.code}) before it was ready`);
  });
  const info = await Promise.race([ready, exited]);
  const writer = child.stdin.getWriter();
  return {
    name,
    pid: child.pid,
    ready: info,
    async send(command) {
      const answer = new Promise<Record<string, unknown>>((resolve, reject) => waiting.push({ resolve, reject }));
      await writer.write(new TextEncoder().encode(JSON.stringify(command) + "\n"));
      const reply = await answer;
      if (!reply.ok) throw new Error(`${name}: ${command.op} failed: ${reply.error}`);
      return reply;
    },
  };
}

/** VmRSS of `pid` in bytes (Deno asks for --allow-all to read another pid's /proc; `cat` keeps the set scoped). */
async function rss(pid: number): Promise<number> {
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/status`], stdout: "piped" }).output();
  const match = new TextDecoder().decode(out.stdout).match(/VmRSS:\s+(\d+) kB/);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

/** CPU seconds (user + system, all threads) of `pid` so far, from /proc/<pid>/stat (clock ticks of 1/100 s). */
async function cpuSeconds(pid: number): Promise<number> {
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/stat`], stdout: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  // Fields after the command name (which may hold spaces): state is the 3rd field, utime the 14th, stime the 15th.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Run `fn`; the CPU seconds `pids` spent meanwhile, per GB (10^9 bytes) of `bytes`. */
async function cpuPerGb(pids: number[], bytes: number, fn: () => Promise<void>): Promise<number[]> {
  const before = await Promise.all(pids.map(cpuSeconds));
  await fn();
  const after = await Promise.all(pids.map(cpuSeconds));
  return pids.map((_, i) => (after[i] - before[i]) / (bytes / 1e9));
}

/**
 * Sample the RSS of `pids` every RSS_EVERY ms until `stop()`; the peak of
 * each, and the first one's peak in each quarter of the sampled time (a
 * leak climbs quarter after quarter, a working set levels off).
 */
function sampleRss(pids: number[]): { stop(): Promise<{ peaks: number[]; quarters: number[] }> } {
  const peaks = pids.map(() => 0);
  const series: { at: number; rss: number }[] = [];
  const start = performance.now();
  let running = true;
  const loop = (async () => {
    while (running) {
      const values = await Promise.all(pids.map(rss));
      values.forEach((v, i) => peaks[i] = Math.max(peaks[i], v));
      series.push({ at: performance.now() - start, rss: values[0] });
      await new Promise((resolve) => setTimeout(resolve, RSS_EVERY));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      const span = performance.now() - start;
      const quarters = [0, 1, 2, 3].map((q) =>
        Math.max(0, ...series.filter((x) => Math.min(3, Math.floor(4 * x.at / span)) === q).map((x) => x.rss))
      );
      return { peaks, quarters };
    },
  };
}

function addrOf(p: Proc, kind: "quic" | "tcp"): string {
  const addr = p.ready.addrs.find((a) => a.startsWith(`${kind}://`));
  if (!addr) throw new Error(`${p.name} has no ${kind} address`);
  return addr;
}

// ---------------------------------------------------------------- the bench

interface FetchResult {
  seconds: number;
  bytes: number;
  progress?: DownloadProgress;
}

const fetchOn = async (p: Proc, mcid: string, drain: string[] = []) =>
  (await p.send({ op: "fetch", mcid, drain })) as unknown as FetchResult;
const rawOn = async (p: Proc, from: Proc, kind: "quic" | "tcp", bytes: number) => {
  const server = kind === "quic" ? from.ready.rawQuic! : from.ready.rawTcp!;
  const reply = await p.send({ op: "raw", kind, ...server, id: from.ready.id, bytes });
  return reply.seconds as number;
};
const mbps = (bytes: number, seconds: number) => bytes / MB / seconds;

const started = performance.now();
const dir = await Deno.makeTempDir({ prefix: "macula-content-bench-" });
const onSignal = () => {
  killAll().finally(() => Deno.removeSync(dir, { recursive: true })).finally(() => Deno.exit(130));
};
Deno.addSignalListener("SIGINT", onSignal);
Deno.addSignalListener("SIGTERM", onSignal);

const json: Record<string, unknown> = {
  runtime: `deno ${Deno.version.deno}`,
  cpus: navigator.hardwareConcurrency,
  runs: RUNS,
  quick: QUICK,
};
const rows: string[][] = [];
const perRun: string[] = [];

try {
  progress("starting nodes…");
  const src = `${dir}/src`;
  await Deno.mkdir(src);
  const node = (name: string, config: ProcessConfig) => spawnNode(name, config, dir);
  const [p0, p1, p2, p3] = await Promise.all([
    node("provider-0", { transports: ["quic", "tcp"], dataDir: `${dir}/p0`, raw: true }),
    ...[1, 2, 3].map((i) => node(`provider-${i}`, { transports: ["quic"], dataDir: `${dir}/p${i}`, uploadRate: RATE })),
  ]);
  const capped = [p1, p2, p3];
  progress(" generating and publishing content…");
  const files = {
    single: { path: `${src}/single`, size: SINGLE, seed: 1 },
    one: { path: `${src}/one`, size: CAPPED, seed: 2 },
    three: { path: `${src}/three`, size: CAPPED, seed: 3 },
    large: { path: `${src}/large`, size: LARGE, seed: 4 },
    // 2 s worth of the capped rate per provider (a bucket holds 1 s), published on the providers of the timed run
    // and fetched right before it: every provider serves it to the end, which leaves all their buckets empty.
    drainOne: { path: `${src}/drain-one`, size: 2 * RATE, seed: 5 },
    drainThree: { path: `${src}/drain-three`, size: 3 * 2 * RATE, seed: 6 },
  };
  await Promise.all([
    p0.send({ op: "generate", ...files.single }).then(() => p0.send({ op: "generate", ...files.large })),
    p1.send({ op: "generate", ...files.one }).then(() => p1.send({ op: "generate", ...files.drainOne })),
    p2.send({ op: "generate", ...files.three }),
    p3.send({ op: "generate", ...files.drainThree }),
  ]);
  const publish = async (p: Proc, path: string) => (await p.send({ op: "publish", path })).mcid as string;
  const [single, large, one, drainOne] = await Promise.all([
    publish(p0, files.single.path),
    publish(p0, files.large.path),
    publish(p1, files.one.path),
    publish(p1, files.drainOne.path),
  ]);
  const onAll = async (path: string) => {
    const ids = await Promise.all(capped.map((p) => publish(p, path)));
    if (new Set(ids).size !== 1) throw new Error("the three providers disagree on the MCID");
    return ids[0];
  };
  const three = await onAll(files.three.path);
  const drainThree = await onAll(files.drainThree.path);

  progress(" fetchers…");
  const fq = await node("fetcher-quic", { transports: ["quic"], dataDir: `${dir}/fq`, provide: false });
  const ft = await node("fetcher-tcp", { transports: ["tcp"], dataDir: `${dir}/ft`, provide: false });
  await fq.send({ op: "connect", addrs: [p0, ...capped].map((p) => addrOf(p, "quic")) });
  await ft.send({ op: "connect", addrs: [addrOf(p0, "tcp")] });
  progress(" warming up…");
  await rawOn(fq, p0, "quic", 64 * MiB);
  await fetchOn(fq, single);
  await rawOn(ft, p0, "tcp", 64 * MiB);
  await fetchOn(ft, single);
  progress(" done\n");

  // ------------------------------------------------ 1. one provider vs a raw stream
  const fig1Side = () => ({ ours: [] as number[], raw: [] as number[] });
  const fig1 = { quic: fig1Side(), tcp: fig1Side() };
  /** CPU seconds per GB of the fetcher and of the provider. */
  const cpu1 = {
    quic: { fetcher: fig1Side(), provider: fig1Side() },
    tcp: { fetcher: fig1Side(), provider: fig1Side() },
  };
  for (let run = 1; run <= RUNS; run++) {
    progress(`1. one provider, ${SINGLE / MiB} MiB, run ${run}/${RUNS}\n`);
    for (const kind of ["quic", "tcp"] as const) {
      const f = kind === "quic" ? fq : ft;
      const timed = async (side: "ours" | "raw", fn: () => Promise<number>) => {
        const [fetcher, provider] = await cpuPerGb([f.pid, p0.pid], SINGLE, async () => {
          fig1[kind][side].push(mbps(SINGLE, await fn()));
        });
        cpu1[kind].fetcher[side].push(fetcher);
        cpu1[kind].provider[side].push(provider);
      };
      const steps = [
        () => timed("raw", () => rawOn(f, p0, kind, SINGLE)),
        () => timed("ours", async () => (await fetchOn(f, single)).seconds),
      ];
      if (run % 2 === 0) steps.reverse();
      for (const step of steps) await step();
    }
  }

  // ------------------------------------------------ 2 and 3. three capped providers vs one
  const fig2 = { one: [] as number[], three: [] as number[], fetched: [] as number[], duplicate: [] as number[] };
  const fig2Progress: DownloadProgress[] = [];
  for (let run = 1; run <= RUNS; run++) {
    progress(`2. capped providers (${RATE / MB} MB/s each), ${CAPPED / MiB} MiB, run ${run}/${RUNS}\n`);
    const steps = [
      async () => fig2.one.push(mbps(CAPPED, (await fetchOn(fq, one, [drainOne])).seconds)),
      async () => {
        const r = await fetchOn(fq, three, [drainThree]);
        fig2.three.push(mbps(CAPPED, r.seconds));
        if (!r.progress) throw new Error("no progress report from the 3-provider fetch");
        fig2.fetched.push(r.progress.fetched);
        fig2.duplicate.push(r.progress.duplicate);
        fig2Progress.push(r.progress);
      },
    ];
    if (run % 2 === 0) steps.reverse();
    for (const step of steps) await step();
  }

  // ------------------------------------------------ 4. RSS during a large fetch
  progress(`4. RSS during a ${LARGE / MiB} MiB fetch\n`);
  const fl = await node("fetcher-large", { transports: ["quic"], dataDir: `${dir}/fl`, provide: false });
  await fl.send({ op: "connect", addrs: [addrOf(p0, "quic")] });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const idle: number[] = [];
  const providerIdle: number[] = [];
  for (let i = 0; i < 5; i++) {
    idle.push(await rss(fl.pid));
    providerIdle.push(await rss(p0.pid));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const sampler = sampleRss([fl.pid, p0.pid]);
  const largeFetch = await fetchOn(fl, large);
  const { peaks: [peak, providerPeak], quarters } = await sampler.stop();
  const after = await rss(fl.pid);

  // ------------------------------------------------ 5. hashing
  progress(`5. publish and verify, ${HASHED / MiB} MiB in memory\n`);
  const hasher = await node("hasher", { transports: ["quic"], quota: 4 * HASHED });
  const fig5: Record<string, { publish: number[]; verify: number[] }> = {};
  for (const codec of CODECS) {
    fig5[codec] = (await hasher.send({ op: "hash", size: HASHED, codec, runs: HASH_RUNS })) as unknown as {
      publish: number[];
      verify: number[];
    };
  }

  // ------------------------------------------------ report
  const f1 = (v: number) => v.toFixed(1);
  const f0 = (v: number) => v.toFixed(0);
  const ratioRow = (label: string, ours: number[], base: number[], baseLabel: string, target?: [string, boolean]) => {
    const o = median(ours);
    const b = median(base);
    rows.push([
      label,
      f0(o),
      f0(b),
      (o / b).toFixed(2),
      baseLabel,
      target?.[0] ?? "",
      target ? target[1] ? "PASS" : "MISS" : "",
    ]);
    perRun.push(`  ${label}: [${ours.map(f0).join(", ")}] | [${base.map(f0).join(", ")}]`);
    const r3 = (v: number) => Number(v.toFixed(3));
    return {
      ours: r3(o),
      baseline: r3(b),
      ratio: r3(o / b),
      oursRuns: ours.map(r3),
      baselineRuns: base.map(r3),
      ...(target ? { target: target[0], pass: target[1] } : {}),
    };
  };
  const quic1 = median(fig1.quic.ours) / median(fig1.quic.raw);
  json.single_quic_mbps = ratioRow(
    `fetch ${SINGLE / MiB} MiB, 1 provider, QUIC (MB/s)`,
    fig1.quic.ours,
    fig1.quic.raw,
    "raw Deno QUIC stream",
    ["≥ 0.8×", quic1 >= 0.8],
  );
  json.single_tcp_mbps = ratioRow(
    `fetch ${SINGLE / MiB} MiB, 1 provider, TCP+Noise (MB/s)`,
    fig1.tcp.ours,
    fig1.tcp.raw,
    "raw Deno TCP",
  );
  const f2 = (v: number) => v.toFixed(2);
  for (const kind of ["quic", "tcp"] as const) {
    for (const side of ["fetcher", "provider"] as const) {
      const { ours, raw } = cpu1[kind][side];
      const label = `${side} CPU per GB, ${kind === "quic" ? "QUIC" : "TCP+Noise"} (s)`;
      rows.push([
        label,
        f2(median(ours)),
        f2(median(raw)),
        (median(ours) / median(raw)).toFixed(1),
        "raw stream",
        "",
        "",
      ]);
      perRun.push(`  ${label}: [${ours.map(f2).join(", ")}] | [${raw.map(f2).join(", ")}]`);
      json[`single_${kind}_${side}_cpu_s_per_gb`] = {
        ours: Number(median(ours).toFixed(3)),
        baseline: Number(median(raw).toFixed(3)),
      };
    }
  }
  const speedup = median(fig2.three) / median(fig2.one);
  json.capped_mbps = ratioRow(
    `fetch ${CAPPED / MiB} MiB, 3 vs 1 providers at ${RATE / MB} MB/s (MB/s)`,
    fig2.three,
    fig2.one,
    "1 provider",
    ["≥ 2.7×", speedup >= 2.7],
  );
  const dupShare = fig2.duplicate.reduce((a, b) => a + b, 0) / fig2.fetched.reduce((a, b) => a + b, 0);
  rows.push([
    "duplicate bytes in the 3-provider fetches (%)",
    (100 * dupShare).toFixed(2),
    "",
    "",
    "duplicate / fetched",
    "≤ 2 %",
    dupShare <= 0.02 ? "PASS" : "MISS",
  ]);
  perRun.push(
    `  duplicate / fetched per 3-provider run: ${
      fig2.duplicate.map((d, i) => `${d}/${fig2.fetched[i]}`).join(", ")
    }; bad blocks ${fig2Progress.map((p) => p.badBlocks).join(", ")}`,
  );
  perRun.push(
    `  bytes per provider per 3-provider run (MiB): ${
      fig2Progress.map((p) => p.providers.map((x) => (x.bytes / MiB).toFixed(1)).join("/")).join(", ")
    }`,
  );
  json.capped_duplicate = {
    share: Number(dupShare.toFixed(5)),
    duplicate: fig2.duplicate,
    fetched: fig2.fetched,
    target: "≤ 2 %",
    pass: dupShare <= 0.02,
  };
  const idleRss = median(idle);
  const growth = peak - idleRss;
  const providerGrowth = providerPeak - median(providerIdle);
  const mib = (v: number) => (v / MiB).toFixed(1);
  rows.push([
    `fetcher RSS growth, ${LARGE / MiB} MiB fetch (MiB)`,
    mib(growth),
    mib(idleRss),
    "",
    `idle RSS; peak ${mib(peak)}, after ${mib(after)}`,
    "≤ 64 MiB",
    growth <= 64 * MiB ? "PASS" : "MISS",
  ]);
  rows.push([
    `provider RSS growth serving it (MiB)`,
    mib(providerGrowth),
    mib(median(providerIdle)),
    "",
    `RSS before; peak ${mib(providerPeak)}`,
    "≤ 64 MiB",
    providerGrowth <= 64 * MiB ? "PASS" : "MISS",
  ]);
  rows.push([
    `fetch ${LARGE / MiB} MiB, 1 provider, QUIC, disk store (MB/s)`,
    f0(mbps(LARGE, largeFetch.seconds)),
    "",
    "",
    "one run",
    "",
    "",
  ]);
  perRun.push(`  fetcher RSS peak per quarter of the ${LARGE / MiB} MiB fetch (MiB): ${quarters.map(mib).join(", ")}`);
  json.large_rss = {
    bytes: LARGE,
    idleMiB: Number(mib(idleRss)),
    peakMiB: Number(mib(peak)),
    afterMiB: Number(mib(after)),
    quarterPeaksMiB: quarters.map((q) => Number(mib(q))),
    growthMiB: Number(mib(growth)),
    providerBeforeMiB: Number(mib(median(providerIdle))),
    providerPeakMiB: Number(mib(providerPeak)),
    providerGrowthMiB: Number(mib(providerGrowth)),
    fetchMbps: Number(mbps(LARGE, largeFetch.seconds).toFixed(1)),
    target: "growth ≤ 64 MiB",
    pass: growth <= 64 * MiB,
  };
  const hashJson: Record<string, unknown> = {};
  for (const codec of CODECS) {
    const { publish: pub, verify } = fig5[codec];
    rows.push([`publish, ${codec}, in memory (MB/s)`, f0(median(pub)), "", "", "", "", ""]);
    rows.push([`verify, ${codec} (MB/s)`, f0(median(verify)), "", "", "leaves + every group", "", ""]);
    perRun.push(`  ${codec}: publish [${pub.map(f0).join(", ")}], verify [${verify.map(f0).join(", ")}]`);
    hashJson[codec] = {
      publishMbps: Number(f1(median(pub))),
      verifyMbps: Number(f1(median(verify))),
      publishRuns: pub.map((v) => Number(f1(v))),
      verifyRuns: verify.map((v) => Number(f1(v))),
    };
  }
  json.hash = hashJson;
  json.params = { single: SINGLE, capped: CAPPED, rate: RATE, large: LARGE, hashed: HASHED, hashRuns: HASH_RUNS };
  json.seconds = Number(((performance.now() - started) / 1000).toFixed(1));

  const header = ["figure", "ours", "baseline", "ratio", "baseline is", "target", "result"];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const numeric = new Set([1, 2, 3]);
  const line = (cells: string[]) =>
    cells.map((cell, c) => numeric.has(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c])).join("  ").trimEnd();
  console.log(
    `\nMacula content bench — deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs, loopback, every node ` +
      `a child process; median of ${RUNS} runs${QUICK ? " (--quick)" : ""}; MB = 10^6 bytes`,
  );
  console.log();
  console.log(line(header));
  console.log(line(widths.map((w) => "-".repeat(w))));
  for (const r of rows) console.log(line(r));
  console.log("\nper-run values (ours | baseline):");
  for (const l of perRun) console.log(l);
  console.log(`\nBENCH_JSON ${JSON.stringify(json)}`);
} finally {
  await killAll();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  Deno.removeSignalListener("SIGINT", onSignal);
  Deno.removeSignalListener("SIGTERM", onSignal);
}

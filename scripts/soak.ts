/**
 * `deno task soak`: eight real node processes in network namespaces under
 * faults, for a bounded time, then a report.
 *
 * - h0 publishes `soak.data` at 200 msg/s (sequence numbers); h2-h4 subscribe;
 * - h1 calls `soak.echo` at 20 calls/s (5 s deadline each) on
 *   providers h5-h7, and probes each provider's own procedure 4×/s;
 * - every 30 s a subscriber (in turn) or the provider serving the calls is
 *   SIGKILLed and restarted 5 s later with the same identity, data dir and port;
 * - every 2 min the groups {h0,h1,h2,h5} and {h3,h4,h6,h7} are partitioned
 *   (iptables DROP) for 20 s, then healed;
 * - h4's link loses 10 % of its packets each way.
 *
 * Usage: `deno task soak [--minutes 10] [--json FILE] [--down 5] [--logs DIR]`.
 * Without root, `ip`, `tc` or `iptables` it prints SKIPPED and exits 0.
 * Exits 1 if any node crashed or reported a protocol violation.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Collector, type Incarnation, type Role } from "./soak/collect.ts";
import { type LabHost, labUnavailable, SoakLab } from "./soak/lab.ts";
import type { SoakNodeConfig } from "./soak/node.ts";
import type { Interval } from "./soak/report.ts";
import { buildReport, formatReport, type RunFacts } from "./soak/summary.ts";
import { forEachLine } from "./process.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    minutes: { type: "string", default: "10" },
    json: { type: "string" },
    down: { type: "string", default: "5" },
    logs: { type: "string" },
  },
});
const MINUTES = Number(args.minutes);
if (!(MINUTES > 0 && MINUTES <= 24 * 60)) {
  throw new RangeError(`--minutes must be a positive number, got ${args.minutes}`);
}
const DOWN_S = Number(args.down);
const RATE = 200;
const CALL_RATE = 20;
const PORT = 9443;
const ROLES: Role[] = [
  "publisher",
  "caller",
  "subscriber",
  "subscriber",
  "subscriber",
  "provider",
  "provider",
  "provider",
];
const GROUPS: [number[], number[]] = [[0, 1, 2, 5], [3, 4, 6, 7]];
const VICTIMS = [5, 2, 6, 3, 7, 4];
const LOSS_HOST = 4;
const LOSS_PERCENT = 10;
const ROOT = new URL("../", import.meta.url).pathname;
const NODE_SCRIPT = new URL("./soak/node.ts", import.meta.url).pathname;

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const log = (text: string) => console.error(`[soak ${new Date().toISOString().slice(11, 19)}] ${text}`);

const reason = await labUnavailable();
if (reason) {
  console.log(`SKIPPED: ${reason}`);
  Deno.exit(0);
}

const collector = new Collector(ROLES);
const dataRoot = await Deno.makeTempDir({ prefix: "soak-data-" });
const logDir = args.logs ?? await Deno.makeTempDir({ prefix: "soak-logs-" });
await Deno.mkdir(logDir, { recursive: true });
const logFiles = ROLES.map((_, i) => Deno.openSync(`${logDir}/h${i}.jsonl`, { create: true, append: true }));
const running = new Map<number, { child: Deno.ChildProcess; inc: Incarnation; stdin: WritableStreamDefaultWriter }>();
let lab: SoakLab | undefined;
let cleaning: Promise<void> | undefined;

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const r of running.values()) r.inc.planned = true;
    await lab?.destroy();
    await Deno.remove(dataRoot, { recursive: true }).catch(() => {});
    for (const f of logFiles) f.close();
  })();
  return cleaning;
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, async () => {
    log(`${signal}: cleaning up`);
    await cleanup();
    Deno.exit(130);
  });
}

const quicAddr = (i: number) => {
  const addrs = collector.hosts[i].addrs;
  return addrs.find((a) => a.startsWith("quic://")) ?? addrs[0];
};

/** Start (or restart) the node of host `i`; resolves once it is ready. */
async function startNode(host: LabHost, seeds: string[]): Promise<void> {
  const i = host.index;
  const config: SoakNodeConfig = {
    role: ROLES[i] as SoakNodeConfig["role"],
    index: i,
    host: host.addr,
    port: PORT,
    dataDir: `${dataRoot}/h${i}`,
    seeds,
    publisherDid: collector.hosts[0].did || undefined,
    rate: ROLES[i] === "publisher" ? RATE : CALL_RATE,
    providers: ROLES.flatMap((r, k) => r === "provider" ? [k] : []),
  };
  const child = lab!.spawn(host, [
    Deno.execPath(),
    "run",
    "--quiet",
    "--allow-net",
    "--allow-read",
    `--allow-write=${dataRoot}`,
    "--allow-env",
    "--allow-sys",
    "--unstable-net",
    NODE_SCRIPT,
    JSON.stringify(config),
  ], ROOT);
  const inc = collector.spawned(i, now());
  running.set(i, { child, inc, stdin: child.stdin.getWriter() });
  const file = logFiles[i];
  const enc = new TextEncoder();
  forEachLine(child.stdout, (line) => {
    if (!cleaning) file.writeSync(enc.encode(line + "\n"));
    collector.line(i, inc, line);
  }).catch(() => {});
  forEachLine(child.stderr, (line) => {
    if (!cleaning) file.writeSync(enc.encode(JSON.stringify({ ev: "stderr", line }) + "\n"));
    collector.stderrLine(i, line);
  }).catch(() => {});
  child.status.then((status) => {
    if (running.get(i)?.child === child) running.delete(i);
    collector.exited(i, inc, now(), status.code);
  });
  await collector.until(() => inc.readyAt !== undefined || inc.exitedAt !== undefined, 60_000, `h${i} ready`);
  if (inc.readyAt === undefined) throw new Error(`h${i} exited before it was ready (see ${logDir}/h${i}.jsonl)`);
}

async function send(i: number, line: string): Promise<void> {
  await running.get(i)?.stdin.write(new TextEncoder().encode(line + "\n")).catch(() => {});
}

/** Seeds of a restarted node: the publisher, the caller and a node of its own partition group. */
function restartSeeds(i: number): string[] {
  const group = GROUPS.find((g) => g.includes(i))!;
  const mate = group[(group.indexOf(i) + 1) % group.length];
  return [...new Set([0, 1, mate])].filter((k) => k !== i).map(quicAddr);
}

/** The provider that served most of the caller's calls in the last 2 s (the one worth killing), if any. */
function servingProvider(): number | undefined {
  const counts = new Map<number, number>();
  for (let k = collector.calls.length - 1; k >= 0 && collector.calls[k].t0 > now() - 2_000; k--) {
    const by = collector.calls[k].by;
    if (by !== undefined && running.has(by)) counts.set(by, (counts.get(by) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
}

/** The fault schedule, in seconds from the start: kills every 30 s, a 20 s partition every 2 min. */
function schedule(seconds: number): { kills: Array<{ at: number; host: number }>; partitions: Interval[] } {
  const kills = [];
  for (let at = 15, k = 0; at + DOWN_S + 25 <= seconds; at += 30, k++) {
    kills.push({ at, host: VICTIMS[k % VICTIMS.length] });
  }
  const partitions: Interval[] = [];
  for (let base = 0; base < seconds; base += 120) {
    let start = base + 82; // between the kills at 75 and 105 s (+ 120 k)
    if (base === 0 && start + 30 > seconds) start = seconds - 35; // a short run still gets one partition
    if (start >= base + 5 && start + 30 <= seconds) partitions.push({ start, end: start + 20 });
  }
  return { kills, partitions };
}

let exitCode = 0;
try {
  log(`building the lab (8 namespaces); logs in ${logDir}`);
  lab = await SoakLab.create(ROLES.length);
  await startNode(lab.hosts[0], []);
  await Promise.all(lab.hosts.slice(1).map((h) => startNode(h, [quicAddr(0)])));
  log("all nodes ready; waiting for the publisher to know 3 subscribers and the caller to reach a provider");
  await collector.until(() => collector.knownSubscribers >= 3 && collector.warmCalls > 0, 90_000, "warm-up");
  await lab.addLoss(lab.hosts[LOSS_HOST], LOSS_PERCENT);
  const seconds = MINUTES * 60;
  const plan = schedule(seconds);
  const start = now();
  await Promise.all([send(0, "go"), send(1, "go")]);
  log(
    `running ${MINUTES} min: ${plan.kills.length} kills, ${plan.partitions.length} partitions; loss: ${lab.lossMethod}`,
  );

  const kills: RunFacts["kills"] = [];
  const partitions: Interval[] = [];
  const tasks: Promise<void>[] = [];
  for (const k of plan.kills) {
    tasks.push((async () => {
      await sleep(start + k.at * 1000 - now());
      if (ROLES[k.host] === "provider") k.host = servingProvider() ?? k.host;
      const r = running.get(k.host);
      if (!r) return log(`h${k.host} is not running at ${k.at} s: kill skipped`);
      r.inc.planned = true;
      r.inc.killedAt = now();
      kills.push({ host: k.host, at: r.inc.killedAt });
      r.child.kill("SIGKILL");
      log(`SIGKILL h${k.host} (${ROLES[k.host]})`);
      await r.child.status;
      await sleep(r.inc.killedAt + DOWN_S * 1000 - now());
      await startNode(lab!.hosts[k.host], restartSeeds(k.host));
      log(`h${k.host} ready again after ${((now() - r.inc.killedAt) / 1000).toFixed(2)} s`);
    })());
  }
  for (const p of plan.partitions) {
    tasks.push((async () => {
      await sleep(start + p.start * 1000 - now());
      const cut = now();
      await lab!.partition(GROUPS[0].map((i) => lab!.hosts[i]), GROUPS[1].map((i) => lab!.hosts[i]));
      log("partition");
      await sleep(start + p.end * 1000 - now());
      await lab!.heal();
      partitions.push({ start: cut, end: now() });
      log("healed");
    })());
  }
  const progress = setInterval(() => {
    const ok = collector.calls.filter((c) => c.ok).length;
    log(
      `${
        ((now() - start) / 1000).toFixed(0)
      } s: ${collector.publishedAt.length} published, ${ok}/${collector.calls.length} calls ok`,
    );
  }, 30_000);
  await sleep(start + seconds * 1000 - now());
  const end = now();
  clearInterval(progress);
  await Promise.all(tasks);
  log("stopping the publisher and the caller; draining");
  await Promise.all([send(0, "stop"), send(1, "stop")]);
  await collector.until(() => collector.publisherDone && collector.callerDone, 15_000, "publisher and caller done")
    .catch((e) => log(String(e)));
  await sleep(3_000);
  for (const r of running.values()) r.inc.planned = true;
  await Promise.all([...running.values()].map((r) => r.stdin.close().catch(() => {})));
  await Promise.race([Promise.all([...running.values()].map((r) => r.child.status)), sleep(5_000)]);

  const facts: RunFacts = {
    start,
    end,
    minutes: MINUTES,
    rate: RATE,
    callRate: CALL_RATE,
    downSeconds: DOWN_S,
    kills,
    partitions,
    groups: GROUPS,
    lossHost: LOSS_HOST,
    lossPercent: LOSS_PERCENT,
    lossMethod: lab.lossMethod,
    graceMs: 500,
    recoveringMs: 10_000,
  };
  const report = buildReport(collector, facts);
  console.log(formatReport(report));
  console.log(`\nnode event logs: ${logDir}`);
  if (args.json) await Deno.writeTextFile(args.json, JSON.stringify(report, null, 2) + "\n");
  if ((report.violations as number) > 0 || (report.crashes as number) > 0) exitCode = 1;
} catch (error) {
  log(`failed: ${(error as Error).stack ?? error}`);
  exitCode = 2;
} finally {
  await cleanup();
}
Deno.exit(exitCode);

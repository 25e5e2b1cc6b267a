/**
 * The soak report: built from what the collector saw and the faults the
 * orchestrator injected, with the accounting of `report.ts`; printed as a
 * table and written as JSON.
 *
 * @module
 */
import type { Collector, HostRecord } from "./collect.ts";
import {
  accountSubscriber,
  failoverTime,
  firstAfter,
  type Interval,
  rssAccount,
  summarize,
  type Summary,
  widen,
} from "./report.ts";

/** The faults of a run and its settings, as the orchestrator saw them. */
export interface RunFacts {
  start: number;
  end: number;
  minutes: number;
  rate: number;
  callRate: number;
  downSeconds: number;
  kills: Array<{ host: number; at: number }>;
  partitions: Interval[];
  /** Host indices of the two partition groups. */
  groups: [number[], number[]];
  lossHost: number;
  lossPercent: number;
  lossMethod: string;
  /** Missing messages published this long before a kill or a partition count as lost with it, ms. */
  graceMs: number;
  /** After a restart or heal, misses while up in this window are "recovering", ms. */
  recoveringMs: number;
}

const round = (n: number | null, d = 1) => n === null ? null : Math.round(n * 10 ** d) / 10 ** d;
const mib = (n: number | null) => n === null ? null : round(n / 1048576, 1);
const roundSummary = (s: Summary): Summary => ({ n: s.n, p50: round(s.p50), p99: round(s.p99), max: round(s.max) });

/** Build the report object. */
export function buildReport(c: Collector, f: RunFacts): Record<string, unknown> {
  const rel = (t: number) => round((t - f.start) / 1000, 2);
  const groupOf = (i: number) => f.groups[0].includes(i) ? 0 : 1;
  const publisher = c.hosts.find((h) => h.role === "publisher")!;
  const crossPartition = (h: HostRecord) => groupOf(h.index) !== groupOf(publisher.index) ? f.partitions : [];

  // ---- pub/sub
  const subscribers = c.hosts.filter((h) => h.role === "subscriber").map((h) => {
    const down: Interval[] = [];
    const recovering: Interval[] = [];
    const restarts: Array<Record<string, unknown>> = [];
    h.incarnations.forEach((inc, k) => {
      if (inc.killedAt === undefined) return;
      const next = h.incarnations[k + 1];
      down.push({ start: inc.killedAt - f.graceMs, end: next?.readyAt ?? Infinity });
      if (next?.readyAt === undefined) return;
      recovering.push({ start: next.readyAt, end: next.readyAt + f.recoveringMs });
      const nearPartition = crossPartition(h).some((p) =>
        next.readyAt! < p.end + f.recoveringMs && next.readyAt! >= p.start
      );
      restarts.push({
        killedAt: rel(inc.killedAt),
        readyAt: rel(next.readyAt),
        readyToFirstMs: round(firstAfter(next.readyAt, next.first === undefined ? [] : [next.first])),
        nearPartition,
      });
    });
    const pathDown = widen(crossPartition(h), f.graceMs);
    for (const p of crossPartition(h)) recovering.push({ start: p.end, end: p.end + f.recoveringMs });
    const account = accountSubscriber({
      publishedAt: c.publishedAt,
      receivedCount: h.received,
      down,
      pathDown,
      recovering,
    });
    const firsts = restarts.filter((r) => !r.nearPartition && r.readyToFirstMs !== null).map((r) =>
      r.readyToFirstMs as number
    );
    return {
      host: h.index,
      ...account,
      missedUpRuns: account.missedUpRuns.map(([a, b, t]) => ({ from: a, to: b, publishedAt: rel(t) })),
      restarts,
      readyToFirst: roundSummary(summarize(firsts)),
      restartsWithoutMessage: restarts.filter((r) => r.readyToFirstMs === null).length,
    };
  });
  const latencies = c.hosts.flatMap((h) => h.latencies);

  // ---- RPC
  const calls = c.calls;
  const okCalls = calls.filter((x) => x.ok);
  const callLatency = summarize(okCalls.map((x) => x.t1 - x.t0));
  const slowMs = Math.max(200, 10 * (callLatency.p50 ?? 20));
  const errorKinds: Record<string, number> = {};
  for (const x of calls) {
    if (!x.ok) errorKinds[String(x.error).split(":")[0]] = (errorKinds[String(x.error).split(":")[0]] ?? 0) + 1;
  }
  // A fault's effect on calls is looked for until the next fault starts (at most 15 s), so that a partition's
  // slow calls are not blamed on the kill before it, nor a kill's on the partition.
  const faultStarts = [...f.kills.map((k) => k.at), ...f.partitions.map((p) => p.start)].sort((a, b) => a - b);
  const windowAfter = (t: number, atLeast = 0) =>
    Math.min(Math.max(15_000, atLeast), (faultStarts.find((x) => x > t) ?? Infinity) - t);
  const providerKills = f.kills.filter((k) => c.hosts[k.host].role === "provider").map((k) => {
    const active = calls.some((x) => x.by === k.host && x.t0 >= k.at - 2_000 && x.t0 < k.at);
    const host = c.hosts[k.host];
    const idx = host.incarnations.findIndex((inc) => inc.killedAt === k.at);
    const next = host.incarnations[idx + 1];
    const ready = next?.readyAt;
    return {
      host: k.host,
      killedAt: rel(k.at),
      servingAtKill: active,
      failoverMs: round(failoverTime(k.at, calls, slowMs, windowAfter(k.at))),
      readyAt: ready === undefined ? null : rel(ready),
      readyToFirstProbeMs: ready === undefined || next.served.probe === undefined
        ? null
        : round(next.served.probe - ready),
      readyToFirstSharedCallMs: ready === undefined || next.served.echo === undefined
        ? null
        : round(next.served.echo - ready),
    };
  });
  const partitionImpact = f.partitions.map((p) => ({
    from: rel(p.start),
    to: rel(p.end),
    // Calls that failed or were slow from the cut until 15 s after the heal (or the next fault).
    badCalls: calls.filter((x) =>
      x.t1 >= p.start && x.t0 < p.start + windowAfter(p.start, p.end - p.start + 15_000) &&
      (!x.ok || x.t1 - x.t0 > slowMs)
    ).length,
    disruptionMs: round(failoverTime(p.start, calls, slowMs, windowAfter(p.start, p.end - p.start + 15_000))),
  }));
  const values = (key: string, rows: Array<Record<string, unknown>>) =>
    rows.map((r) => r[key]).filter((v): v is number => typeof v === "number");

  // ---- nodes
  const nodes = c.hosts.map((h) => {
    const rss = rssAccount(h.rss, f.start, f.end);
    return {
      host: h.index,
      role: h.role,
      restarts: h.incarnations.length - 1,
      maxRssMiB: mib(rss.max),
      firstMinuteRssMiB: mib(rss.firstMinute),
      lastMinuteRssMiB: mib(rss.lastMinute),
      growthMiB: mib(rss.growth),
      handlerFailures: h.handlerFailures,
      violations: h.violations.length,
      crashes: h.crashes.length,
      errors: h.errors.length,
    };
  });
  const violations = c.hosts.reduce((n, h) => n + h.violations.length, 0);
  const crashes = c.hosts.reduce((n, h) => n + h.crashes.length, 0);

  return {
    settings: {
      minutes: f.minutes,
      nodes: c.hosts.map((h) => `h${h.index} ${h.role}`),
      publishRate: f.rate,
      callRate: f.callRate,
      restartAfterSeconds: f.downSeconds,
      partitionGroups: f.groups,
      loss: `${f.lossPercent} % on h${f.lossHost}'s link: ${f.lossMethod}`,
      graceMs: f.graceMs,
      recoveringMs: f.recoveringMs,
    },
    faults: {
      kills: f.kills.map((k) => ({ host: k.host, role: c.hosts[k.host].role, at: rel(k.at) })),
      partitions: f.partitions.map((p) => ({ from: rel(p.start), to: rel(p.end) })),
    },
    pubsub: {
      published: c.publishedAt.length,
      latencyMs: roundSummary(summarize(latencies)),
      subscribers,
      readyToFirstMs: roundSummary(summarize(subscribers.flatMap((s) => {
        return s.restarts.filter((r) => !r.nearPartition).map((r) => r.readyToFirstMs).filter((v) => v !== null);
      }) as number[])),
    },
    rpc: {
      calls: calls.length,
      ok: okCalls.length,
      successRate: calls.length ? round((100 * okCalls.length) / calls.length, 3) : null,
      latencyMs: roundSummary(callLatency),
      slowMs,
      failures: errorKinds,
      providerKills,
      slowCalls: okCalls.filter((x) => x.t1 - x.t0 > slowMs).length,
      partitionImpact,
      failoverMs: roundSummary(summarize(values("failoverMs", providerKills))),
      failoverServingMs: roundSummary(summarize(values("failoverMs", providerKills.filter((k) => k.servingAtKill)))),
      readyToFirstProbeMs: roundSummary(summarize(values("readyToFirstProbeMs", providerKills))),
      probes: { calls: c.probes.length, ok: c.probes.filter((p) => p.ok).length },
    },
    nodes,
    violations,
    crashes,
    details: c.hosts.flatMap((h) => [...h.violations, ...h.crashes, ...h.errors].map((d) => `h${h.index}: ${d}`))
      .slice(0, 40),
  };
}

// deno-lint-ignore no-explicit-any
type Any = any;

const s = (x: Summary) => x.n === 0 ? "n/a" : `p50 ${x.p50} / p99 ${x.p99} / max ${x.max} (n=${x.n})`;
const pm = (x: Summary) => x.n === 0 ? "n/a" : `p50 ${x.p50} / max ${x.max} (n=${x.n})`;

/** The report as text. */
export function formatReport(r: Record<string, unknown>): string {
  const report = r as Any;
  const out: string[] = [];
  const st = report.settings;
  out.push(`Macula soak: ${st.minutes} min, ${st.nodes.length} nodes (${st.nodes.join(", ")})`);
  out.push(
    `faults: ${report.faults.kills.length} SIGKILL+restart (after ${st.restartAfterSeconds} s), ` +
      `${report.faults.partitions.length} partitions ${JSON.stringify(st.partitionGroups)}, loss ${st.loss}`,
  );
  out.push("");
  out.push(
    `pub/sub: ${report.pubsub.published} published at ${st.publishRate}/s; latency ms ${s(report.pubsub.latencyMs)}`,
  );
  out.push("  sub  received  dup  missed:down  partitioned  up (recovering)  ready→first ms");
  for (const x of report.pubsub.subscribers) {
    out.push(
      `  h${x.host}  ${String(x.received).padStart(8)}  ${String(x.duplicates).padStart(3)}  ${
        String(x.missedWhileDown).padStart(11)
      }  ${String(x.missedWhilePartitioned).padStart(11)}  ${
        String(x.missedWhileUp).padStart(2)
      } (${x.missedWhileUpRecovering})` +
        `  ${pm(x.readyToFirst)}${x.restartsWithoutMessage ? `, ${x.restartsWithoutMessage} restarts got none` : ""}`,
    );
    for (const run of x.missedUpRuns) {
      out.push(`       missed while up: seq ${run.from}-${run.to} published at ${run.publishedAt} s`);
    }
  }
  out.push(
    `  ready→first message after a restart (all subscribers, away from partitions): ${
      pm(report.pubsub.readyToFirstMs)
    } ms`,
  );
  out.push("");
  const rpc = report.rpc;
  out.push(`RPC: ${rpc.ok}/${rpc.calls} ok (${rpc.successRate} %) at ${st.callRate}/s; latency ms ${s(rpc.latencyMs)}`);
  if (Object.keys(rpc.failures).length) out.push(`  failures: ${JSON.stringify(rpc.failures)}`);
  out.push(`  failover after a provider kill (bad = failed or > ${rpc.slowMs} ms): ${pm(rpc.failoverMs)} ms`);
  out.push(`    of the provider serving the calls: ${pm(rpc.failoverServingMs)} ms`);
  out.push(`  calls slower than ${rpc.slowMs} ms: ${rpc.slowCalls}`);
  for (const p of rpc.partitionImpact) {
    out.push(
      `  partition ${p.from}-${p.to} s: ${p.badCalls} failed or slow calls, last ${p.disruptionMs} ms after the cut`,
    );
  }
  out.push(`  restarted provider ready → first served probe: ${pm(rpc.readyToFirstProbeMs)} ms`);
  for (const k of rpc.providerKills) {
    out.push(
      `    h${k.host} killed ${k.killedAt} s${k.servingAtKill ? " (serving)" : ""}: failover ${k.failoverMs} ms, ` +
        `ready ${k.readyAt} s, first probe +${k.readyToFirstProbeMs} ms, first shared call +${k.readyToFirstSharedCallMs} ms`,
    );
  }
  out.push("");
  out.push("  node  role        restarts  max RSS MiB  first→last min MiB  growth  handler failures");
  for (const n of report.nodes) {
    out.push(
      `  h${n.host}    ${n.role.padEnd(10)}  ${String(n.restarts).padStart(8)}  ${String(n.maxRssMiB).padStart(11)}  ${
        `${n.firstMinuteRssMiB} → ${n.lastMinuteRssMiB}`.padStart(18)
      }  ${String(n.growthMiB).padStart(6)}  ${n.handlerFailures}`,
    );
  }
  out.push("");
  out.push(`protocol violations: ${report.violations}   crashes: ${report.crashes}`);
  for (const d of report.details) out.push(`  ${d.slice(0, 300)}`);
  return out.join("\n");
}

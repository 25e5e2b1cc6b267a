/**
 * The no-root variant: real `macula start` processes on 127.0.0.1 (one
 * machine, shared multicast port, a private group and secret per run) —
 * zero-config discovery, a pause shorter than the suspicion timeout, a
 * SIGKILL, and a node with the wrong secret.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { type NodeProcess, scratchDir, startNode } from "../helpers/cli.ts";
import { formationFigures, fullMembership, type LogEntry, logged, median, time } from "./cli_logs.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const r = () => 1 + Math.floor(Math.random() * 250);

interface Proc {
  proc: NodeProcess;
  logs: LogEntry[];
  did: string;
}

function parsed(p: NodeProcess): Proc {
  const self = { proc: p, did: "" } as Proc;
  Object.defineProperty(self, "logs", {
    get: () =>
      p.lines.flatMap((l) => {
        try {
          return [JSON.parse(l)];
        } catch {
          return [];
        }
      }),
  });
  self.did = String(self.logs.find((l) => l.msg === "node started")?.id);
  return self;
}

async function waitFor(what: string, ms: number, predicate: () => boolean): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

Deno.test({
  name:
    "loopback CLI: 5 processes cluster with no seeds; a short SIGSTOP is survived, SIGKILL is detected, a wrong secret is refused",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dir = await scratchDir();
    const cluster = [
      "--cluster-group",
      `239.78.${r()}.${r()}`,
      "--cluster-port",
      String(40000 + Math.floor(Math.random() * 20000)),
    ];
    const secret = `loopback-${crypto.randomUUID()}`;
    const args = (i: number) => ["--data-dir", `${dir.path}/n${i}`, "--log-format", "json", ...cluster];
    const env = { CLUSTER_STRATEGY: "gossip", CLUSTER_SECRET: secret };
    const procs: Proc[] = [];
    try {
      procs.push(...(await Promise.all([0, 1, 2, 3, 4].map((i) => startNode(args(i), { env })))).map(parsed));
      await waitFor("full membership", 15_000, () => fullMembership(procs));
      const f = formationFigures(procs);
      console.log(
        `  5 processes on loopback: full membership median ${median(f.afterLast)} ms after the last start (max ${
          Math.max(...f.afterLast)
        } ms)`,
      );
      assert(median(f.afterLast) <= 1000);

      const intruder = parsed(await startNode(args(5), { env: { ...env, CLUSTER_SECRET: "not-the-secret" } }));
      procs.push(intruder);

      const paused = procs[4];
      const status = await procs[0].proc.get("/status") as {
        cluster: { timings: { suspicionTimeout: { min: number } } };
      };
      const pause = Math.round(status.cluster.timings.suspicionTimeout.min * 0.75);
      paused.proc.child.kill("SIGSTOP");
      await sleep(pause);
      paused.proc.child.kill("SIGCONT");
      await sleep(5_000);
      assertEquals(
        procs.flatMap((p) => logged(p.logs, "cluster member down", paused.did)).length,
        0,
        `paused ${pause} ms`,
      );

      const victim = procs[3];
      const killedAt = Date.now();
      victim.proc.child.kill("SIGKILL");
      const others = procs.slice(0, 3).concat(paused);
      await waitFor(
        "the killed node marked down",
        10_000,
        () => others.every((p) => logged(p.logs, "cluster member down", victim.did).length > 0),
      );
      const detect = others.map((p) => time(logged(p.logs, "cluster member down", victim.did)[0]) - killedAt);
      console.log(`  SIGSTOP ${pause} ms: no down events; SIGKILL detected in ${detect.join(", ")} ms`);
      assert(Math.max(...detect) <= 5000);

      for (const p of others) {
        assert(!logged(p.logs, "cluster member up", intruder.did).length, "the wrong-secret node never joins");
      }
      const metrics = await (await fetch(`http://127.0.0.1:${procs[0].proc.healthPort}/metrics`)).text();
      assert(
        /macula_cluster_dropped_datagrams_total\{reason="bad_mac"\} [1-9]/.test(metrics),
        "its datagrams are counted",
      );
    } finally {
      for (const p of procs) await p.proc.stop("SIGKILL").catch(() => {});
      await dir.cleanup();
    }
  },
});

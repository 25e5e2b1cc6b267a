/**
 * Replicated state across real processes in network namespaces (root only):
 * 2 + 2 CLI nodes clustered on one LAN, a partition (iptables DROP between
 * the halves), concurrent writes on both sides through `macula state set`,
 * the heal, and convergence measured from `macula state watch` on every
 * node; checked with `macula state get`. The stated bound: every node holds
 * the same map within 30 s of the rules being lifted (the figure is printed).
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { type LabNode, NetnsLab, netnsUnavailable } from "../helpers/netns.ts";
import { fullMembership, logged } from "../cluster/cli_logs.ts";
import { forEachLine } from "../../scripts/process.ts";

const reason = await netnsUnavailable({ iptables: true });
if (reason) console.log(`skipping the network namespace state test: ${reason}`);
const opts = { ignore: reason !== null, sanitizeOps: false, sanitizeResources: false };

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const SECRET = "netns-state-" + crypto.randomUUID().slice(0, 8);
const CONVERGE_BOUND_MS = 30_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, ms: number, predicate: () => boolean | Promise<boolean>): Promise<number> {
  const start = Date.now();
  while (!(await predicate())) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
  return Date.now() - start;
}

/** `macula state …` inside the node's namespace, against its loopback status port. */
function stateArgs(node: LabNode, args: string[]): string[] {
  return [
    "netns",
    "exec",
    node.host.ns,
    Deno.execPath(),
    "run",
    "-A",
    `${ROOT}/main.ts`,
    "state",
    ...args,
    "--health-host",
    "127.0.0.1",
    "--health-port",
    "8080",
  ];
}

async function state(node: LabNode, args: string[]): Promise<unknown> {
  const out = await new Deno.Command("ip", { args: stateArgs(node, args), stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) throw new Error(`state ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(text);
}

interface Watcher {
  child: Deno.ChildProcess;
  changes: Array<{ key: string; value: unknown; at: number }>;
  ready: boolean;
}

function watch(node: LabNode): Watcher {
  const child = new Deno.Command("ip", { args: stateArgs(node, ["watch", "fleet"]), stdout: "piped", stderr: "piped" })
    .spawn();
  const w: Watcher = { child, changes: [], ready: false };
  forEachLine(child.stdout, (line) => w.changes.push({ ...JSON.parse(line), at: Date.now() })).catch(() => {});
  forEachLine(child.stderr, (line) => {
    if (line.includes("watching state")) w.ready = true;
  }).catch(() => {});
  return w;
}

Deno.test({
  name: "netns: 2+2 nodes, a partition, concurrent writes on both sides, the heal: every map converges",
  ...opts,
  fn: async () => {
    const lab = await NetnsLab.create(4);
    const watchers: Watcher[] = [];
    try {
      const nodes = await Promise.all(
        lab.hosts.map((h) =>
          lab.startNode(h, ["--cluster-secret", SECRET, "--health-host", "127.0.0.1", "--log-level", "debug"])
        ),
      );
      await waitFor("full membership", 30_000, () => fullMembership(nodes));
      watchers.push(...nodes.map(watch));
      await waitFor("watchers", 30_000, () => watchers.every((w) => w.ready));
      await state(nodes[0], ["set", "fleet", "base", "0"]);
      await waitFor("the first write everywhere", 15_000, () => watchers.every((w) => w.changes.length >= 1));

      const [a, b] = [nodes.slice(0, 2), nodes.slice(2)];
      for (const [side, other] of [[a, b], [b, a]]) {
        for (const n of side) {
          for (const o of other) await lab.iptables(n.host, ["-A", "INPUT", "-s", o.host.addr, "-j", "DROP"]);
        }
      }
      await waitFor(
        "each half marks the other down",
        40_000,
        () =>
          a.every((x) => b.every((y) => logged(x.logs, "cluster member down", y.did).length > 0)) &&
          b.every((x) => a.every((y) => logged(x.logs, "cluster member down", y.did).length > 0)),
      );
      // Concurrent writes on both sides; "mode" is written on both.
      await Promise.all([
        state(a[0], ["set", "fleet", "mode", '"left"']),
        state(a[1], ["set", "fleet", "left-only", "1"]),
        state(b[0], ["set", "fleet", "mode", '"right"']),
        state(b[1], ["set", "fleet", "right-only", "2"]),
        state(b[1], ["delete", "fleet", "base"]),
      ]);
      await sleep(1000);
      const seen = (w: Watcher, key: string) => w.changes.some((c) => c.key === key);
      assert(!seen(watchers[2], "left-only") && !seen(watchers[0], "right-only"), "the partition held");

      for (const n of nodes) await lab.flushIptables(n.host);
      const healedAt = Date.now();
      const entries = async (n: LabNode) =>
        JSON.stringify(
          Object.entries((await state(n, ["get", "fleet"]) as { entries: Record<string, unknown> }).entries).sort(),
        );
      await waitFor(
        "every watcher saw both sides' writes",
        CONVERGE_BOUND_MS * 2,
        () =>
          watchers.every((w) =>
            seen(w, "left-only") && seen(w, "right-only") && w.changes.some((c) => c.key === "base" && c.value === null)
          ),
      ).catch((error) => {
        for (const [i, w] of watchers.entries()) console.log(`  watcher ${i}:`, w.changes.map((c) => c.key).join(" "));
        for (const [i, n] of nodes.entries()) {
          const after = n.logs.filter((l) =>
            l.at >= healedAt - 40_000 && !/swim|datagram|probe|gossip/.test(String(l.msg))
          );
          console.log(
            `  node ${i}:`,
            after.map((l) => `${l.at - healedAt} ${l.msg} ${l.peer ?? ""} ${l.error ?? ""}`).join("\n"),
          );
        }
        throw error;
      });
      const final = await Promise.all(nodes.map(entries));
      for (const f of final) {
        assertEquals(f, final[0]);
      }
      const doc = Object.fromEntries(JSON.parse(final[0]));
      assertEquals(Object.keys(doc).sort(), ["left-only", "mode", "right-only"]);
      const lastChange = Math.max(...watchers.map((w) => Math.max(...w.changes.map((c) => c.at))));
      const convergedMs = lastChange - healedAt;
      console.log(
        `  state: 4 nodes (2|2) converged ${convergedMs} ms after the partition was lifted (bound ${CONVERGE_BOUND_MS} ms); mode = ${
          JSON.stringify(doc.mode)
        }`,
      );
      assert(convergedMs <= CONVERGE_BOUND_MS);
    } finally {
      for (const w of watchers) {
        try {
          w.child.kill("SIGTERM");
        } catch { /* gone */ }
        await w.child.status;
      }
      await lab.destroy();
    }
  },
});

/**
 * LAN clustering across real processes in network namespaces (root only):
 * zero-config discovery of 10 nodes, crash (SIGKILL) and pause (SIGSTOP)
 * detection, 10 % packet loss for 60 s, secret isolation against
 * wrong-secret and open nodes, junk and replayed datagrams, and a partition
 * that heals. Every figure is printed.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { type LabNode, NetnsLab, netnsUnavailable } from "../helpers/netns.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import { formationFigures, fullMembership, logged as loggedIn, median, time } from "../cluster/cli_logs.ts";

const reason = await netnsUnavailable();
if (reason) console.log(`skipping network namespace cluster tests: ${reason}`);
const opts = { ignore: reason !== null, sanitizeOps: false, sanitizeResources: false };

const SECRET = "netns-test-secret-" + crypto.randomUUID().slice(0, 8);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const logged = (node: LabNode, msg: string, did?: string) => loggedIn(node.logs, msg, did);

async function waitFor(what: string, ms: number, predicate: () => boolean | Promise<boolean>): Promise<number> {
  const start = Date.now();
  while (!(await predicate())) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
  return Date.now() - start;
}

/** Start `n` nodes at once and wait until each has logged every other one up. Returns formation figures. */
async function formCluster(lab: NetnsLab, n: number, args: string[] = ["--cluster-secret", SECRET]) {
  const nodes = await Promise.all(lab.hosts.slice(0, n).map((h) => lab.startNode(h, args)));
  await waitFor("full membership on every node", 20_000, () => fullMembership(nodes));
  return { nodes, ...formationFigures(nodes) };
}

Deno.test({
  name: "netns: 10 nodes with no seeds discover each other; SIGSTOP is survived and SIGKILL is detected",
  ...opts,
  fn: async () => {
    const lab = await NetnsLab.create(10);
    try {
      const { nodes, afterLast, joinOfLast, startSpread } = await formCluster(lab, 10);
      console.log(
        `  full membership after the last of 10 nodes started: median ${median(afterLast)} ms, max ${
          Math.max(...afterLast)
        } ms (join of the last node ${joinOfLast} ms; starts spread over ${startSpread} ms)`,
      );
      assert(median(afterLast) <= 1000, `median time to full membership ${median(afterLast)} ms > 1 s`);
      // Every discovered member is dialed: each pair of nodes gets connected (whether the connection manager
      // later retires one of two simultaneous connections is its business, not the cluster's).
      const short = (did: string) => NodeId.fromDid(did).short;
      await waitFor(
        "a connection between every pair of members",
        15_000,
        () =>
          nodes.every((a) =>
            nodes.every((b) =>
              a === b || logged(a, "peer connected").some((l) => l.peer === short(b.did)) ||
              logged(b, "peer connected").some((l) => l.peer === short(a.did))
            )
          ),
      );
      const peers = (await lab.get(nodes[0], "/peers")) as Array<{ id: string; membership?: string }>;
      assert(peers.every((p) => p.membership === "alive"), "/peers shows the membership state");

      // SIGSTOP for less than the suspicion timeout: nobody marks it down.
      const paused = nodes[9];
      const floor = ((await lab.cluster(nodes[0])).timings as { suspicionTimeout: { min: number } }).suspicionTimeout
        .min;
      const pause = Math.round(floor * 0.75);
      lab.signal(paused, "SIGSTOP");
      await sleep(pause);
      lab.signal(paused, "SIGCONT");
      await sleep(6_000);
      const falseDowns = nodes.flatMap((n) => logged(n, "cluster member down", paused.did));
      console.log(`  SIGSTOP for ${pause} ms (suspicion timeout ≥ ${floor} ms): ${falseDowns.length} down events`);
      assertEquals(falseDowns.length, 0);

      // SIGKILL: everyone else marks it down within 5 s.
      const victim = nodes[8];
      const killedAt = Date.now();
      lab.signal(victim, "SIGKILL");
      const others = nodes.filter((n) => n !== victim);
      await waitFor(
        "everyone marks the killed node down",
        15_000,
        () => others.every((n) => logged(n, "cluster member down", victim.did).length > 0),
      );
      const detect = others.map((n) => time(logged(n, "cluster member down", victim.did)[0]) - killedAt);
      console.log(
        `  SIGKILL detected by all 9 others: median ${median(detect)} ms, max ${Math.max(...detect)} ms (each: ${
          detect.join(", ")
        })`,
      );
      assert(Math.max(...detect) <= 5000, `slowest detection ${Math.max(...detect)} ms > 5 s`);
      for (const n of others) {
        const downs = logged(n, "cluster member down").map((l) => l.did);
        assertEquals(downs, [victim.did], "only the killed node is down");
      }
    } finally {
      await lab.destroy();
    }
  },
});

Deno.test({
  name: "netns: 10 % random packet loss on every host for 60 s causes no false down events",
  ...opts,
  fn: async () => {
    const lab = await NetnsLab.create(10);
    try {
      const { nodes } = await formCluster(lab, 10);
      await sleep(1_000);
      const suspectsBefore = await Promise.all(
        nodes.map((n) => lab.metric(n, 'macula_cluster_transitions_total{state="suspect"}')),
      );
      const rule = ["INPUT", "-m", "statistic", "--mode", "random", "--probability", "0.1", "-j", "DROP"];
      await Promise.all(lab.hosts.map((h) => lab.iptables(h, ["-A", ...rule])));
      const from = Date.now();
      await sleep(60_000);
      await Promise.all(lab.hosts.map((h) => lab.flushIptables(h)));
      const downs = nodes.flatMap((n) => logged(n, "cluster member down").filter((l) => Number(l.at) >= from));
      const suspects = (await Promise.all(
        nodes.map((n) => lab.metric(n, 'macula_cluster_transitions_total{state="suspect"}')),
      )).reduce((s, v, i) => s + v - suspectsBefore[i], 0);
      const probes: Record<string, number> = {};
      for (const result of ["ack", "indirect_ack", "failed", "stalled"]) {
        const values = await Promise.all(
          nodes.map((n) => lab.metric(n, `macula_cluster_probes_total{result="${result}"}`)),
        );
        probes[result] = values.reduce((a, b) => a + b, 0);
      }
      console.log(
        `  60 s at 10 % loss on 10 hosts: ${downs.length} down events, ${suspects} suspicions (all refuted); probes ${
          JSON.stringify(probes)
        }`,
      );
      assertEquals(downs.length, 0);
      for (const n of nodes) {
        const c = await lab.cluster(n);
        assertEquals(c.members.filter((m) => m.state === "alive").length, 9);
      }
    } finally {
      await lab.destroy();
    }
  },
});

Deno.test({
  name: "netns: wrong-secret and open nodes never join; junk and replayed datagrams are counted and ignored",
  ...opts,
  fn: async () => {
    const lab = await NetnsLab.create(6);
    try {
      const { nodes } = await formCluster(lab, 4);
      const wrong = await lab.startNode(lab.hosts[4], ["--cluster-secret", "another-secret-entirely"]);
      const open = await lab.startNode(lab.hosts[5]);
      // Replay captured announcements and throw random bytes at the group and at a SWIM port.
      const captured = await lab.capture("230.1.1.251", 45892, 8, 6_000);
      assert(captured.length > 0, "captured some announcements");
      for (const d of captured) await lab.inject({ hostname: "230.1.1.251", port: 45892 }, d);
      const swimPort = Number(String((await lab.cluster(nodes[0])).endpoints as string[]).split(":")[1]);
      for (let i = 0; i < 20; i++) {
        const junk = crypto.getRandomValues(new Uint8Array(1 + Math.floor(Math.random() * 1400)));
        await lab.inject({ hostname: "230.1.1.251", port: 45892 }, junk);
        await lab.inject({ hostname: nodes[0].host.addr, port: swimPort }, junk);
      }
      await sleep(4_000);
      const outsiders = [wrong.did, open.did];
      for (const n of nodes) {
        const c = await lab.cluster(n);
        assertEquals(c.members.map((m) => m.id).sort(), nodes.filter((x) => x !== n).map((x) => x.did).sort());
        const peers = (await lab.get(n, "/peers")) as Array<{ id: string }>;
        assert(!peers.some((p) => outsiders.includes(p.id)), "never connected to an outsider");
      }
      for (const outsider of [wrong, open]) assertEquals((await lab.cluster(outsider)).members.length, 0);
      const count = (n: LabNode, r: string) => lab.metric(n, `macula_cluster_dropped_datagrams_total{reason="${r}"}`);
      const figures: Record<string, number> = {};
      for (const r of ["bad_mac", "missing_mac", "replay", "malformed"]) figures[r] = await count(nodes[0], r);
      console.log(`  drops counted by one secret node: ${JSON.stringify(figures)}`);
      assert(figures.bad_mac > 0 && figures.missing_mac > 0, "outsiders' datagrams are counted");
      assert(figures.replay > 0, "replayed announcements are counted");
      assert(figures.malformed >= 40, "random bytes on the group and the SWIM port are counted");
      assert((await count(nodes[1], "malformed")) >= 20, "every node counts junk on the group");
      assert((await count(open, "unexpected_mac")) > 0, "the open node ignores the secret cluster");
    } finally {
      await lab.destroy();
    }
  },
});

Deno.test({
  name: "netns: a partition (iptables DROP between two halves) heals after it is lifted",
  ...opts,
  fn: async () => {
    const lab = await NetnsLab.create(6);
    try {
      const { nodes } = await formCluster(lab, 6);
      const [a, b] = [nodes.slice(0, 3), nodes.slice(3)];
      const cutAt = Date.now();
      for (const [side, other] of [[a, b], [b, a]]) {
        for (const n of side) {
          for (const o of other) await lab.iptables(n.host, ["-A", "INPUT", "-s", o.host.addr, "-j", "DROP"]);
        }
      }
      await waitFor(
        "each half marks the other down",
        30_000,
        () =>
          a.every((x) => b.every((y) => logged(x, "cluster member down", y.did).length > 0)) &&
          b.every((x) => a.every((y) => logged(x, "cluster member down", y.did).length > 0)),
      );
      const split = Date.now() - cutAt;
      for (const n of nodes) await lab.flushIptables(n.host);
      const healedIn = await waitFor("membership converges again", 20_000, async () => {
        for (const n of nodes) {
          const c = await lab.cluster(n);
          if (c.members.filter((m) => m.state === "alive").length !== 5) return false;
        }
        return true;
      });
      console.log(`  partition: halves split after ${split} ms; converged ${healedIn} ms after the rules were lifted`);
      const ups = nodes.map((n) => logged(n, "cluster member up").length);
      assert(ups.every((u) => u >= 8), "every node saw the other half come back");
    } finally {
      await lab.destroy();
    }
  },
});

Deno.test({
  name: "netns: a board on two LANs (two interfaces) clusters with both; the LANs do not merge or flap",
  ...opts,
  fn: async () => {
    // h0, h1 on LAN 0; h2 on LAN 0 and LAN 1 (eth0 + eth1, like Ethernet + Wi-Fi); h3, h4 on LAN 1.
    const lab = await NetnsLab.create(5, { lans: (i) => (i < 2 ? [0] : i === 2 ? [0, 1] : [1]) });
    try {
      const nodes = await Promise.all(lab.hosts.map((h) => lab.startNode(h, ["--cluster-secret", SECRET])));
      const [a0, a1, dual, b0, b1] = nodes;
      const expected = new Map([
        [a0, [a1, dual]],
        [a1, [a0, dual]],
        [dual, [a0, a1, b0, b1]],
        [b0, [b1, dual]],
        [b1, [b0, dual]],
      ]);
      const views = async () => {
        const out = new Map<LabNode, string[]>();
        for (const n of nodes) {
          out.set(n, (await lab.cluster(n)).members.filter((m) => m.state === "alive").map((m) => m.id).sort());
        }
        return out;
      };
      const matches = (v: Map<LabNode, string[]>) =>
        nodes.every((n) => JSON.stringify(v.get(n)) === JSON.stringify(expected.get(n)!.map((x) => x.did).sort()));
      const took = await waitFor("each LAN plus the dual-homed board", 10_000, async () => matches(await views()));
      const endpoints = (await lab.cluster(dual)).endpoints as string[];
      assertEquals(endpoints.map((e) => e.split(":")[0]).sort(), [...dual.host.addrs].sort());
      await sleep(8_000);
      assert(matches(await views()), "views are stable");
      assertEquals(nodes.flatMap((n) => logged(n, "cluster member down")).length, 0, "no flapping");
      console.log(`  two LANs bridged by a dual-homed board: views settled in ${took} ms, no down events in 8 s`);
    } finally {
      await lab.destroy();
    }
  },
});

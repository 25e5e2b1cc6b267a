/**
 * Cluster security across real processes in network namespaces (root only):
 * forged SWIM membership injected from another namespace (signatures reused
 * with other fields, huge incarnations) is refused and the honest member
 * stays in; six nodes whose clocks are up to ±6 h apart form a cluster with
 * a secret; a flood from one secret holder does not disturb the others.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { type Host, type LabNode, NetnsLab, netnsUnavailable } from "../helpers/netns.ts";
import { openEnvelope, sealEnvelope } from "../../src/cluster/envelope.ts";
import { type AliveToken, decodeMessage, encodeMessage, type Update } from "../../src/cluster/messages.ts";
import { ReplayGuard } from "../../src/cluster/replay-guard.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { signerOf } from "../../src/identity/domain-signature.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import { fullMembership, logged } from "./cli_logs.ts";

const reason = await netnsUnavailable({ iptables: false });
if (reason) console.log(`skipping cluster security namespace tests: ${reason}`);
const opts = { ignore: reason !== null, sanitizeOps: false, sanitizeResources: false };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HOUR = 3_600_000;

async function waitFor(what: string, ms: number, predicate: () => boolean | Promise<boolean>): Promise<number> {
  const start = Date.now();
  while (!(await predicate())) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
  return Date.now() - start;
}

type Member = { id: string; state: string; incarnation: number; addr: string };
const member = async (lab: NetnsLab, at: LabNode, of: LabNode) =>
  ((await lab.cluster(at)).members as Member[]).find((m) => m.id === of.did);

/** Alive tokens from captured announcements, by did. */
async function captureTokens(lab: NetnsLab, wanted: string[]): Promise<Map<string, AliveToken>> {
  const tokens = new Map<string, AliveToken>();
  const deadline = Date.now() + 15_000;
  while (wanted.some((d) => !tokens.has(d)) && Date.now() < deadline) {
    for (const d of await lab.capture("230.1.1.251", 45892, 6, 2_500)) {
      try {
        const opened = openEnvelope(d, { guard: new ReplayGuard() });
        const msg = decodeMessage(opened.body);
        if (msg.type === "announce") tokens.set(msg.token.id.did, msg.token);
      } catch {
        // not an announcement we can read
      }
    }
  }
  return tokens;
}

Deno.test({
  name: "netns security: forged alive tokens and huge incarnations from another namespace are refused",
  ...opts,
  fn: async () => {
    const lab = await NetnsLab.create(3, { prefix: "clus" });
    try {
      const nodes = await Promise.all(lab.hosts.map((h) => lab.startNode(h))); // an open cluster
      await waitFor("full membership", 20_000, () => fullMembership(nodes));
      const [a, victim, dead] = nodes;
      const tokens = await captureTokens(lab, [victim.did, dead.did]);
      const vTok = tokens.get(victim.did)!, dTok = tokens.get(dead.did)!;
      assert(vTok && dTok, "captured both members' signed alive tokens");
      lab.signal(dead, "SIGKILL");
      await waitFor(
        "the killed member marked down",
        15_000,
        () => logged(a.logs, "cluster member down", dead.did).length > 0,
      );
      const before = (await member(lab, a, victim))!;
      const deadBefore = (await member(lab, a, dead))!;
      const swimOf = async (n: LabNode) => {
        const [hostname, port] = String(((await lab.cluster(n)).endpoints as string[])[0]).split(":");
        return { hostname, port: Number(port) };
      };
      const attacker = signerOf(KeyPair.generate());
      const forge = (updates: Update[]) => sealEnvelope(attacker, encodeMessage({ type: "gossip", updates }));
      const reuse = (t: AliveToken, incarnation: number, addrs: string[]): Update => ({
        kind: "alive",
        token: { ...t, incarnation, addrs },
      });
      const claim = (id: NodeId, incarnation: number): Update => ({
        kind: "suspect",
        id,
        incarnation,
        by: attacker.id,
      });
      const vid = NodeId.fromDid(victim.did);
      const [atA, atVictim] = [await swimOf(a), await swimOf(victim)];
      // Move the victim to the attacker's address with its own signature from another token.
      await lab.inject(atA, forge([reuse(vTok, before.incarnation + 1, ["10.77.0.254:9"])]));
      await sleep(300);
      assertEquals((await member(lab, a, victim))!.addr, before.addr, "the victim was not moved");
      const forged = [
        forge([reuse(dTok, deadBefore.incarnation + 1, dTok.addrs)]), // revive the dead member
        forge([reuse(vTok, 2 ** 52, vTok.addrs)]), // its incarnation near the end of the range
        forge([claim(vid, 2 ** 52)]),
        forge([claim(vid, before.incarnation + 1_000)]),
      ];
      for (const d of forged) {
        await lab.inject(atA, d);
        await lab.inject(atVictim, d); // claims about itself, too
      }
      await sleep(1_500);
      const after = (await member(lab, a, victim))!;
      console.log(`  victim at the other node before: ${JSON.stringify(before)}, after: ${JSON.stringify(after)}`);
      assertEquals(after.addr, before.addr, "the victim is still at its own address");
      assert(after.incarnation < before.incarnation + 20, `incarnation ${after.incarnation} was pushed up`);
      assert((await lab.cluster(victim)).incarnation as number < before.incarnation + 20, "the victim did not bump");
      assertEquals((await member(lab, a, dead))!.state, "dead", "the dead member stays dead");
      const downAt = Number(logged(a.logs, "cluster member down", dead.did)[0].at);
      assertEquals(logged(a.logs, "cluster member up", dead.did).filter((l) => Number(l.at) > downAt).length, 0);
      const drops: Record<string, number> = {};
      for (const r of ["bad_signature", "malformed", "mismatch"]) {
        drops[r] = await lab.metric(a, `macula_cluster_dropped_datagrams_total{reason="${r}"}`);
      }
      console.log(`  drops at the attacked node: ${JSON.stringify(drops)}`);
      assert(drops.bad_signature >= 2 && drops.malformed >= 2 && drops.mismatch >= 1, JSON.stringify(drops));
      await sleep(2_000);
      for (const n of [a, victim]) {
        const other = n === a ? victim : a;
        assertEquals((await member(lab, n, other))?.state, "alive", "the honest members stay in");
      }
      assertEquals(logged(a.logs, "cluster member down", victim.did).length, 0);
    } finally {
      await lab.destroy();
    }
  },
});

interface ScriptProcess {
  lines: Array<Record<string, unknown>>;
  last(ev: string): Record<string, unknown> | undefined;
}

/** Run `netns_node.ts` in a host namespace (killed by `lab.destroy()`). */
function spawnScript(lab: NetnsLab, host: Host, args: string[]): ScriptProcess {
  const script = new URL("./netns_node.ts", import.meta.url).pathname;
  const child = new Deno.Command("ip", {
    args: ["netns", "exec", host.ns, Deno.execPath(), "run", "-A", "--unstable-net", script, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  lab.nodes.push({ host, child, logs: [], did: "", exited: child.status });
  const proc: ScriptProcess = {
    lines: [],
    last: (ev) => proc.lines.findLast((l) => l.ev === ev),
  };
  (async () => {
    let buffer = "";
    for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += text;
      const parts = buffer.split("\n");
      buffer = parts.pop()!;
      for (const p of parts) if (p.trim()) proc.lines.push(JSON.parse(p));
    }
  })();
  return proc;
}

Deno.test({
  name: "netns security: 6 nodes with clocks up to ±6 h apart form a secret cluster; a flood from one key is harmless",
  ...opts,
  fn: async () => {
    const lab = await NetnsLab.create(7, { prefix: "clus" });
    const secret = "clock-free-" + crypto.randomUUID().slice(0, 8);
    const offsets = [-6 * HOUR, -3 * HOUR, -HOUR, 0, 2 * HOUR, 6 * HOUR];
    try {
      const nodes = offsets.map((o, i) => spawnScript(lab, lab.hosts[i], ["node", lab.hosts[i].addr, `${o}`, secret]));
      await waitFor("every node started", 60_000, () => nodes.every((n) => n.last("ready")));
      const lastReady = Math.max(...nodes.map((n) => Number(n.last("ready")!.at)));
      await waitFor("full membership on every node", 20_000, () => nodes.every((n) => n.last("status")?.alive === 5));
      const formed = Math.max(...nodes.map((n) => Number(n.lines.find((l) => l.alive === 5)!.at))) - lastReady;
      console.log(
        `  clocks ${offsets.map((o) => `${o / HOUR} h`).join(", ")}: full membership ${formed} ms after the last start`,
      );
      assert(formed <= 10_000, `formation took ${formed} ms`);

      const target = String((nodes[0].last("status")!.endpoints as string[])[0]);
      const flooder = spawnScript(lab, lab.hosts[6], ["flood", target, secret, "3000"]);
      await waitFor("the flood", 60_000, () => !!flooder.last("flooded"));
      const floodEnd = Date.now();
      await sleep(3_000);
      const late = nodes[0].lines.filter((l) => l.ev === "status" && Number(l.at) > floodEnd);
      console.log(`  after 3 000 datagrams from one key: ${JSON.stringify(nodes[0].last("status")!.dropped)}`);
      assert(late.length > 0 && late.every((l) => l.alive === 5), "the flooded node keeps every member alive");
      for (const n of nodes) assertEquals(n.last("status")!.downs, 0, "no member was marked down");
    } finally {
      await lab.destroy();
    }
  },
});

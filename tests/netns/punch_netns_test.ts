/**
 * Hole punching through real NAT routers (tests/helpers/nat_lab.ts), in
 * real namespaces (root; skipped with the reason otherwise). A TCP splicer
 * on the public segment stands in for the relay; two observer nodes there
 * tell each node its public address and NAT mapping (identify). For each
 * pair of sites, the initiator connects to the responder through the
 * splicer 20 times (every round from scratch: fresh ports, no connection
 * left) and reports whether the punch gave a direct QUIC connection whose
 * remote address is the peer router's public address.
 *
 * Figures (printed): success rate per pair and time from relayed contact to
 * direct. Goals: home↔home and accepting↔home ≥ 95 %; symmetric↔symmetric
 * never direct (skipped when both know their mapping; when the mapping is
 * hidden, every attempt fails) and never a false "direct".
 *
 * Run: `deno test --allow-all --unstable-net tests/netns/punch_netns_test.ts`
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { netnsUnavailable } from "../helpers/netns.ts";
import { jsonLines, NatLab, type ProbeProcess } from "../helpers/nat_lab.ts";

const why = await netnsUnavailable();
if (why) console.log(`punch_netns_test skipped: ${why}`);

const PEER = new URL("../helpers/punch_peer.ts", import.meta.url).pathname;
const ROUNDS = Number(Deno.env.get("PUNCH_ROUNDS") ?? 20);
/** Run only the steps whose name contains this (e.g. `PUNCH_STEPS="home ↔ home"`). */
const ONLY = Deno.env.get("PUNCH_STEPS");

type Line = Record<string, unknown>;

type JsonProcess = ProbeProcess;

function spawnPeer(lab: NatLab, ns: string, args: string[]): JsonProcess {
  const proc = lab.spawn(ns, Deno.execPath(), ["run", "--allow-all", "--unstable-net", PEER, ...args], {
    stderr: Deno.env.get("PUNCH_LOGS") ? "inherit" : "null",
  });
  return jsonLines(proc, `${args[0]} in ${ns}`, 20_000);
}

interface PairResult {
  rounds: Line[];
  direct: number;
  falseDirect: number;
  times: number[];
  initiator: Line;
  responder: Line;
}

async function runPair(
  lab: NatLab,
  from: string,
  to: string,
  rounds: number,
  splicer: string,
  observers: string[],
  extra: string[] = [],
): Promise<PairResult> {
  const responder = spawnPeer(lab, lab.host(to), ["responder", splicer, ...observers]);
  try {
    const r = await responder.next();
    const initiator = spawnPeer(lab, lab.host(from), [
      "initiator",
      splicer,
      String(r.did),
      lab.routerWan(to),
      String(rounds),
      ...observers,
      ...extra,
    ]);
    try {
      const ready = await initiator.next();
      const lines: Line[] = [];
      while (true) {
        const line = await initiator.next(60_000);
        if (line.done) break;
        lines.push(line);
      }
      const direct = lines.filter((l) => l.direct === true).length;
      // "Direct" is only what the remote address proves; a non-relayed connection elsewhere would be a false one.
      const falseDirect = lines.filter((l) => l.route === "direct" && l.direct !== true).length;
      const times = lines.filter((l) => l.direct === true && typeof l.timeToDirect === "number").map((l) =>
        Number(l.timeToDirect)
      );
      for (const l of lines.filter((l) => l.direct === true && typeof l.timeToDirect !== "number")) {
        console.log(`punch round without the service's time to direct: ${JSON.stringify(l)}`);
      }
      return { rounds: lines, direct, falseDirect, times, initiator: ready, responder: r };
    } finally {
      initiator.kill();
    }
  } finally {
    responder.kill();
  }
}

function summary(name: string, r: PairResult, rounds: number): string {
  const sorted = [...r.times].sort((a, b) => a - b);
  const p = (q: number) => sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] : NaN;
  const reasons = [...new Set(r.rounds.filter((l) => l.direct !== true).map((l) => String(l.reason)))];
  return `${name}: direct ${r.direct}/${rounds} (${
    Math.round((100 * r.direct) / rounds)
  } %), false direct ${r.falseDirect}, ` +
    `time to direct p50 ${p(0.5)} ms p90 ${p(0.9)} ms max ${
      p(1)
    } ms; mappings ${r.initiator.mapping}/${r.responder.mapping}` +
    (reasons.length ? `; not direct: ${reasons.join(", ")}` : "");
}

function misses(r: PairResult): string {
  return r.rounds.filter((l) => l.direct !== true).map((l) => JSON.stringify(l)).join("\n");
}

Deno.test({
  name: "hole punching through NAT routers: home↔home, accepting↔home, symmetric↔symmetric",
  ignore: why !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const lab = await NatLab.create({
      prefix: "pnch",
      publicHosts: 3,
      sites: [
        { name: "ha", profile: "home" },
        { name: "hb", profile: "home" },
        { name: "acc", profile: "accepting" },
        { name: "hc", profile: "home" },
        { name: "sa", profile: "symmetric" },
        { name: "sb", profile: "symmetric" },
      ],
    });
    const figures: string[] = [];
    try {
      const splicer = `${lab.publicAddr(0)}:7000`;
      const splice = spawnPeer(lab, lab.publicHost(0), ["splicer", lab.publicAddr(0), "7000"]);
      assertEquals((await splice.next()).ready, true);
      const observers: string[] = [];
      for (const i of [1, 2]) {
        const o = spawnPeer(lab, lab.publicHost(i), ["observer", lab.publicAddr(i), "9443"]);
        observers.push(String((await o.next()).addr));
      }

      await t.step({
        name: "home ↔ home: ≥ 95 % direct",
        ignore: !!ONLY && !"home ↔ home: ≥ 95 % direct".includes(ONLY),
        fn: async () => {
          const r = await runPair(lab, "ha", "hb", ROUNDS, splicer, observers);
          figures.push(summary("home→home", r, ROUNDS));
          assertEquals(r.falseDirect, 0);
          assert(r.direct >= Math.ceil(0.95 * ROUNDS), `${figures.at(-1)}\n${misses(r)}`);
        },
      });

      await t.step({
        name: "accepting ↔ home: ≥ 95 % direct (TTL-2 pre-open)",
        ignore: !!ONLY && !"accepting ↔ home: ≥ 95 % direct (TTL-2 pre-open)".includes(ONLY),
        fn: async () => {
          const r = await runPair(lab, "acc", "hc", ROUNDS, splicer, observers);
          figures.push(summary("accepting→home", r, ROUNDS));
          assertEquals(r.falseDirect, 0);
          assert(r.direct >= Math.ceil(0.95 * ROUNDS), `${figures.at(-1)}\n${misses(r)}`);
        },
      });

      await t.step({
        name: "home ↔ accepting (initiator at home): ≥ 95 % direct",
        ignore: !!ONLY && !"home ↔ accepting (initiator at home): ≥ 95 % direct".includes(ONLY),
        fn: async () => {
          const r = await runPair(lab, "hc", "acc", ROUNDS, splicer, observers);
          figures.push(summary("home→accepting", r, ROUNDS));
          assertEquals(r.falseDirect, 0);
          assert(r.direct >= Math.ceil(0.95 * ROUNDS), `${figures.at(-1)}\n${misses(r)}`);
        },
      });

      await t.step({
        name: "symmetric ↔ symmetric: skipped (both endpoint-dependent), stays relayed",
        ignore: !!ONLY && !"symmetric ↔ symmetric: skipped (both endpoint-dependent), stays relayed".includes(ONLY),
        fn: async () => {
          const r = await runPair(lab, "sa", "sb", 3, splicer, observers);
          figures.push(summary("symmetric→symmetric", r, 3));
          assertEquals(r.initiator.mapping, "endpoint-dependent");
          assertEquals(r.responder.mapping, "endpoint-dependent");
          assertEquals(r.direct, 0);
          assertEquals(r.falseDirect, 0);
          for (const l of r.rounds) assertEquals(l.reason, "both-endpoint-dependent");
        },
      });

      await t.step({
        name: "symmetric ↔ symmetric with the mapping hidden: attempts, never direct",
        ignore: !!ONLY && !"symmetric ↔ symmetric with the mapping hidden: attempts, never direct".includes(ONLY),
        fn: async () => {
          const rounds = Math.min(ROUNDS, 5);
          const r = await runPair(lab, "sa", "sb", rounds, splicer, observers, ["--mapping", "unknown"]);
          figures.push(summary("symmetric→symmetric (mapping hidden, 3 attempts per round)", r, rounds));
          assertEquals(r.direct, 0);
          assertEquals(r.falseDirect, 0);
        },
      });
    } finally {
      for (const f of figures) console.log(`punch figure: ${f}`);
      await lab.destroy();
    }
  },
});

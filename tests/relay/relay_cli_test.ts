/**
 * Real `macula start` processes on loopback: a relay R (`--relay`), and B
 * reserved at R (`--relay-via`) providing an echo procedure. A (a long-lived
 * node) and the one-shot `call`, `pub` and `sub` clients are given only B's
 * relayed address as their seed, so every one of them reaches B through R.
 * (B also listens on loopback, which the test cannot hide from separate
 * processes; that the traffic went through R is proven by R's circuit and
 * byte counters and by A's `/peers`, which shows B as relayed via R. On one
 * host a hole punch would succeed at once, so B runs with `--no-punch`; the
 * punch itself is tested behind real NAT routers in tests/netns/.)
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { type NodeProcess, runCli, scratchDir, spawnCli, startNode, waitFor } from "../helpers/cli.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

type Status = { id: string; addrs: string[]; "relay-client"?: { relays: Array<{ state: string }> } };

async function metricsOf(n: NodeProcess): Promise<string> {
  return await (await fetch(`http://127.0.0.1:${n.healthPort}/metrics`)).text();
}

function counter(metrics: string, name: string): number {
  return Number(new RegExp(`^${name} (\\d+)`, "m").exec(metrics)?.[1] ?? 0);
}

/**
 * B: reserved at the relay `rAddr`, providing `relay.echo`, never punching
 * (on one host a punch succeeds at once); resolves once it announces its
 * relayed address.
 */
async function startReservedB(dir: string, rAddr: string, nodes: NodeProcess[]) {
  const b = await startNode(["--data-dir", `${dir}/b`, "--relay-via", rAddr, "--echo", "relay.echo", "--no-punch"]);
  nodes.push(b);
  let bRelayed = "";
  await waitFor(
    async () => {
      bRelayed = ((await b.get("/status")) as Status).addrs.find((a) => a.includes("/circuit/")) ?? "";
      return bRelayed !== "";
    },
    15_000,
    "B's reservation",
  );
  return { b, bRelayed };
}

Deno.test({
  name: "relay CLI: call, pub/sub and peers through a relay between macula start processes",
  ...opts,
  async fn() {
    const dir = await scratchDir();
    const nodes: NodeProcess[] = [];
    try {
      const r = await startNode(["--data-dir", `${dir.path}/r`, "--relay", "--relay-limit", "maxCircuits=100"]);
      nodes.push(r);
      const rStatus = (await r.get("/status")) as Status;
      const rAddr = rStatus.addrs[0];
      assert((await metricsOf(r)).includes('macula_relay_limit{limit="maxCircuits"} 100'), "the operator's limit");
      const { b, bRelayed } = await startReservedB(dir.path, rAddr, nodes);
      const bStatus = (await b.get("/status")) as Status;
      assertEquals(bStatus["relay-client"]?.relays[0].state, "reserved");
      assert(bRelayed.startsWith(`${rAddr}/circuit/`), bRelayed);

      // A long-lived node seeded only with B's relayed address.
      const a = await startNode(["--data-dir", `${dir.path}/a`, "--seed", bRelayed, "--no-punch"]);
      nodes.push(a);
      await waitFor(
        async () => {
          const peers = (await a.get("/peers")) as Array<{ id: string; route: string; relay?: string }>;
          return peers.some((p) => p.id === bStatus.id && p.route === "relayed" && p.relay === rStatus.id);
        },
        15_000,
        "A connected to B through R",
      );
      const peersCli = await runCli(["peers", "--health-port", String(a.healthPort)]);
      assertEquals(peersCli.code, 0, peersCli.stderr);
      assert(peersCli.stdout.includes(`relayed via ${rStatus.id}`), peersCli.stdout);

      const common = ["--host", "127.0.0.1", "--timeout", "5000", "--seed", bRelayed];
      const before = counter(await metricsOf(r), "macula_relay_circuits_opened_total");
      const call = await runCli(["call", "relay.echo", '{"over":"relay"}', ...common]);
      assertEquals(call.code, 0, call.stderr);
      const answer = JSON.parse(call.stdout.trim().split("\n")[0]);
      assertEquals(answer.args, { over: "relay" });
      assertEquals(answer.node, bStatus.id);

      const sub = spawnCli(["sub", "relay.news", "--count", "2", ...common]);
      await waitFor(() => sub.err.some((l) => l.includes("subscribed to")), 30_000, "subscription");
      for (let i = 1; i <= 2; i++) {
        const pub = await runCli(["pub", "relay.news", JSON.stringify({ n: i }), ...common]);
        assertEquals(pub.code, 0, pub.stderr);
      }
      assertEquals((await sub.done).code, 0, sub.err.join("\n"));
      assertEquals(sub.out.map((l) => JSON.parse(l).payload), [{ n: 1 }, { n: 2 }]);

      const metrics = await metricsOf(r);
      const opened = counter(metrics, "macula_relay_circuits_opened_total") - before;
      assert(opened >= 4, `R opened ${opened} circuits for call, sub and two pubs`);
      assert(counter(metrics, "macula_relay_bytes_total") > 10_000, "R forwarded the traffic");
      // B's reservation, and A's: A met R (a relay of its realm) when it dialed through it.
      assertEquals(counter(metrics, "macula_relay_reservations"), 2, metrics);
    } finally {
      await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
      await dir.cleanup();
    }
  },
});

Deno.test({
  name: "relay CLI: a killed relay restarts, B re-reserves and a call through it answers within 10 s",
  ...opts,
  async fn() {
    const dir = await scratchDir();
    const nodes: NodeProcess[] = [];
    try {
      let r = await startNode(["--data-dir", `${dir.path}/r`, "--relay"]);
      nodes.push(r);
      const rStatus = (await r.get("/status")) as Status;
      const rAddr = rStatus.addrs[0];
      const port = /:(\d+)\//.exec(rAddr)![1];
      const { b, bRelayed } = await startReservedB(dir.path, rAddr, nodes);
      const reservation = async () => {
        const relays = ((await b.get("/status")) as Status & {
          "relay-client": { relays: Array<{ state: string; expires?: string }> };
        })["relay-client"].relays;
        return relays[0];
      };
      const before = await reservation();
      const call = async () =>
        await runCli(["call", "relay.echo", "2", "--host", "127.0.0.1", "--timeout", "5000", "--seed", bRelayed]);
      assertEquals((await call()).code, 0);

      await r.stop("SIGKILL");
      const killedAt = performance.now();
      r = await startNode(["--data-dir", `${dir.path}/r`, "--relay", "--port", port]);
      nodes.push(r);
      // B notices the dead relay (QUIC idle timeout), reconnects and reserves again.
      await waitFor(
        async () => {
          const now = await reservation();
          return now.state === "reserved" && now.expires !== before.expires;
        },
        10_000,
        "B's new reservation",
      );
      const reserved = (performance.now() - killedAt) / 1000;
      const result = await call();
      assertEquals(result.code, 0, result.stderr);
      assertEquals(JSON.parse(result.stdout.trim()).args, 2);
      const resumed = (performance.now() - killedAt) / 1000;
      console.log(
        `relay killed and restarted: B reserved again after ${reserved.toFixed(1)} s, a call through it answered ${
          resumed.toFixed(1)
        } s after the kill`,
      );
      assert(resumed < 10, `resumed after ${resumed.toFixed(1)} s`);
    } finally {
      await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
      await dir.cleanup();
    }
  },
});

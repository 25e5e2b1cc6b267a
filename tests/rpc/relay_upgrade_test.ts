/**
 * RPC calls and `request`s in flight across the relay → direct upgrade:
 * slow handlers started over the relayed connection all complete (the
 * relayed connection is not closed under them), new ones go over the
 * direct connection at once, and the relayed connection closes once quiet.
 * Real nodes; the connections run Noise + mux over in-process pipes
 * (`tests/helpers/relayed_transport.ts`).
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { until } from "../helpers/nodes.ts";
import { sleep, upgradePair } from "../helpers/upgrade_pair.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const SLOW = 1_500;
const GRACE = 3_000;

Deno.test({
  name: "rpc: calls and requests in flight over the relay complete across the upgrade; new ones go direct",
  ...opts,
  async fn() {
    const pair = await upgradePair({ latency: 15, limits: { duplicateGrace: GRACE } });
    const { a, b } = pair;
    const ran = { call: 0, request: 0 };
    try {
      b.node.advertise("slow.echo", async (args) => {
        const { n, ms } = args as { n: number; ms: number };
        ran.call++;
        await sleep(ms);
        return n;
      });
      b.node.expose("slow", async (_from, payload) => {
        const { n, ms } = payload as { n: number; ms: number };
        ran.request++;
        await sleep(ms);
        return n;
      });
      await until(
        async () => (await a.node.call("slow.echo", { n: -1, ms: 0 }, { timeout: 1_000 }).catch(() => null)) === -1,
        5_000,
        "the provider is found",
      );
      assertEquals(await a.node.request(b.node.id, "slow", { n: -1, ms: 0 }), -1);
      ran.call = ran.request = 0;

      // In flight over the relay, each longer than a second of silence on its stream.
      const started = performance.now();
      const slowCalls = Array.from({ length: 20 }, (_, n) => a.node.call("slow.echo", { n, ms: SLOW }));
      const slowRequests = Array.from({ length: 20 }, (_, n) => a.node.request(b.node.id, "slow", { n, ms: SLOW }));
      await until(() => ran.call === 20 && ran.request === 20, 2_000, "all handlers running");
      assert(pair.relayed.activeStreams > 0, "the requests run on the relayed connection");

      const switchMs = await pair.upgrade();
      const direct = a.node.connection(b.node.id)!;
      assert(!direct.relayed);

      // New calls and requests go over the direct connection at once.
      const directBefore = a.direct.bytesOf(direct);
      const quick = await Promise.all([
        ...Array.from({ length: 20 }, (_, n) => a.node.call("slow.echo", { n: 100 + n, ms: 10 })),
        ...Array.from({ length: 20 }, (_, n) => a.node.request(b.node.id, "slow", { n: 200 + n, ms: 10 })),
      ]);
      const quickMs = performance.now() - started;
      assertEquals(quick, [
        ...Array.from({ length: 20 }, (_, n) => 100 + n),
        ...Array.from({ length: 20 }, (_, n) => 200 + n),
      ]);
      assert(a.direct.bytesOf(direct) > directBefore, "they went over the direct connection");
      assert(quickMs < SLOW, `the new calls did not wait for the old ones (${quickMs.toFixed(0)} ms)`);

      // Every call and request started over the relay completes, with its own answer, exactly once.
      assertEquals(await Promise.all(slowCalls), Array.from({ length: 20 }, (_, n) => n));
      assertEquals(await Promise.all(slowRequests), Array.from({ length: 20 }, (_, n) => n));
      const doneAt = performance.now();
      assertEquals(ran, { call: 40, request: 40 }, "no handler ran twice");
      assert(!pair.relayed.isClosed || pair.relayed.activeStreams === 0, "the relayed one carried them to the end");

      // Nothing new goes through the relay.
      const relayedBytes = a.relay.bytesOf(pair.relayed);
      await Promise.all(Array.from({ length: 10 }, (_, n) => a.node.call("slow.echo", { n, ms: 0 })));
      await Promise.all(Array.from({ length: 10 }, (_, n) => a.node.request(b.node.id, "slow", { n, ms: 0 })));
      assertEquals(a.relay.bytesOf(pair.relayed), relayedBytes, "the relayed byte counter stopped");

      // Quiet now: the relayed connection closes after the grace period.
      await until(() => pair.relayed.isClosed, GRACE + 3_000, "the relayed connection closes once quiet");
      const closedAfter = performance.now() - doneAt;
      console.log(
        `switch-over ${switchMs.toFixed(1)} ms; 40 new calls/requests over the direct connection in ${
          quickMs.toFixed(0)
        } ms from the start of the slow ones; relayed connection closed ${
          closedAfter.toFixed(0)
        } ms after the last in-flight reply (grace ${GRACE} ms)`,
      );
      assert(a.node.connection(b.node.id) === direct, "the direct connection stays");
    } finally {
      await pair.stop();
    }
  },
});

Deno.test({
  name: "rpc: when the direct connection dies, new calls and requests go over the relay at once",
  ...opts,
  async fn() {
    const pair = await upgradePair({ latency: 5, limits: { duplicateGrace: 200 } });
    const { a, b } = pair;
    try {
      b.node.advertise("echo", (args) => args);
      b.node.expose("echo", (_from, payload) => payload);
      await pair.upgrade();
      await until(
        async () => (await a.node.call("echo", 1, { timeout: 1_000 }).catch(() => null)) === 1,
        5_000,
        "the provider is found",
      );
      await until(() => pair.relayed.isClosed, 3_000, "the relayed connection retired");
      const direct = a.node.connection(b.node.id)!;
      const killed = performance.now();
      a.direct.kill();
      // (A request made before the node noticed the loss fails with ConnectionClosedError, as on any dead link.)
      await until(() => direct.isClosed, 2_000, "the loss noticed");
      // Both work right away: the manager re-dials the relay and the callers wait for it.
      assertEquals(await a.node.request(b.node.id, "echo", "via relay"), "via relay");
      const requestMs = performance.now() - killed;
      assertEquals(await a.node.call("echo", "again"), "again");
      const now = a.node.connection(b.node.id)!;
      assert(now.relayed, "over a relayed connection");
      assert(a.relay.bytesOf(now) > 0);
      console.log(`first request after the direct connection died answered in ${requestMs.toFixed(1)} ms (relayed)`);
    } finally {
      await pair.stop();
    }
  },
});

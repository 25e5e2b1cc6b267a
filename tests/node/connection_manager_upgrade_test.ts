/**
 * The connection manager's side of the relay → direct upgrade: dialing a
 * direct connection past a relayed one, retiring the relayed one once quiet
 * (never under a stream in flight), and falling back to the relayed path
 * when the direct one dies. Real nodes; the connections run Noise + mux over
 * in-process pipes (`tests/helpers/relayed_transport.ts`).
 */
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { until } from "../helpers/nodes.ts";
import { sleep, upgradePair } from "../helpers/upgrade_pair.ts";
import { DialError } from "../../src/transport/errors.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name: "connect({ direct: true }) dials past a relayed connection; it fails cleanly when no direct path exists",
  ...opts,
  async fn() {
    const pair = await upgradePair();
    const { a, b } = pair;
    try {
      assert(pair.relayed.relayed);
      // A plain connect reuses the relayed connection.
      assert((await a.node.connect(b.node.id)) === pair.relayed);
      // No direct path yet: a typed error, and the relayed connection is untouched.
      const error = await assertRejects(() => a.node.connect(b.node.id, { direct: true }), DialError);
      assert(/direct/.test(error.message), error.message);
      assert(a.node.connection(b.node.id) === pair.relayed && !pair.relayed.isClosed);

      await pair.upgrade();
      const direct = a.node.connection(b.node.id)!;
      assertEquals(direct.route, "direct");
      // Both sides use it; asking again returns it (no second dial).
      assert((await a.node.connect(b.node.id, { direct: true })) === direct);
      assert((await a.node.connect(b.node.id)) === direct);
      assertEquals(b.node.connection(a.node.id)?.route, "direct");
      assertEquals(a.node.peers().length, 1);
    } finally {
      await pair.stop();
    }
  },
});

Deno.test({
  name: "the relayed connection closes after the grace period once quiet, not while a request on it is in flight",
  ...opts,
  async fn() {
    const grace = 1_000;
    const pair = await upgradePair({ limits: { duplicateGrace: grace } });
    const { a, b } = pair;
    try {
      b.node.expose("slow", async (_from, ms) => {
        await sleep(ms as number);
        return "done";
      });
      // Slower than the quiet period the retired connection used to be closed after (1 s).
      const inFlight = a.node.request(b.node.id, "slow", 900);
      await until(() => pair.relayed.activeStreams > 0, 2_000, "the request runs over the relay");
      await pair.upgrade();
      assertEquals(await inFlight, "done");
      const replied = performance.now();
      assert(!pair.relayed.isClosed || pair.relayed.activeStreams === 0);
      const info = await pair.relayed.closed;
      const after = performance.now() - replied;
      console.log(`relayed connection closed ${after.toFixed(0)} ms after the last reply (grace ${grace} ms)`);
      assert(["duplicate connection", "remote closed"].includes(info.reason), info.reason);
      assert(after < grace + 1_500, `closed ${after} ms after the reply`);
      assert(!a.node.connection(b.node.id)?.relayed, "the direct connection stays");
      assertEquals(await a.node.request(b.node.id, "slow", 0), "done");
    } finally {
      await pair.stop();
    }
  },
});

Deno.test({
  name: "the direct connection dies: the open relayed one becomes current again on both sides, no disconnect",
  ...opts,
  async fn() {
    const pair = await upgradePair({ limits: { duplicateGrace: 30_000 } });
    const { a, b } = pair;
    try {
      await pair.upgrade();
      const events: string[] = [];
      a.node.on("peer:disconnect", () => events.push("a: disconnect"));
      b.node.on("peer:disconnect", () => events.push("b: disconnect"));
      a.node.on("peer:connect", () => events.push("a: connect"));
      a.direct.kill();
      await until(
        () => a.node.connection(b.node.id) === pair.relayed && b.node.connection(a.node.id)?.relayed === true,
        2_000,
        "both sides back on the relayed connection",
      );
      assertEquals(await a.node.ping(b.node.id) >= 0, true);
      assertEquals(events, []);
    } finally {
      await pair.stop();
    }
  },
});

Deno.test({
  name:
    "the direct connection dies after the relayed one closed: the relay is re-dialed; if that fails too, one disconnect",
  ...opts,
  async fn() {
    const pair = await upgradePair({ limits: { duplicateGrace: 200 } });
    const { a, b } = pair;
    try {
      await pair.upgrade();
      await until(() => pair.relayed.isClosed, 3_000, "the relayed connection retired");
      const events: string[] = [];
      a.node.on("peer:disconnect", () => events.push("a: disconnect"));
      b.node.on("peer:disconnect", () => events.push("b: disconnect"));
      a.node.on("peer:connect", () => events.push("a: connect"));
      b.node.on("peer:connect", () => events.push("b: connect"));
      const killed = performance.now();
      a.direct.kill();
      await until(() => a.node.connection(b.node.id)?.relayed === true, 3_000, "a relayed connection again");
      console.log(`fell back to a new relayed connection ${(performance.now() - killed).toFixed(1)} ms after the kill`);
      await until(() => b.node.connection(a.node.id)?.relayed === true, 3_000, "b on the relayed connection");
      assertEquals(await a.node.ping(b.node.id) >= 0, true);
      assertEquals(events, [], "services saw no disconnect and no second connect");

      // Now the relay goes too: the peer is reported gone, once per side.
      a.relay.kill();
      await until(() => events.length >= 2, 5_000, "disconnects");
      await sleep(300);
      assertEquals(events.sort(), ["a: disconnect", "b: disconnect"]);
      assertEquals(a.node.connection(b.node.id), undefined);
    } finally {
      await pair.stop();
    }
  },
});

/**
 * Pub/sub across the relay → direct upgrade and back: a continuous stream
 * from A to B arrives exactly once and in order while the direct
 * connection appears, and while it dies again (with the relayed
 * connection still open, and after it was closed and must be re-dialed).
 * Real nodes; the connections run Noise + mux over in-process pipes
 * (`tests/helpers/relayed_transport.ts`).
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { until } from "../helpers/nodes.ts";
import { sleep, type UpgradePair, upgradePair } from "../helpers/upgrade_pair.ts";
import type { PubSubMessage } from "../../src/pubsub/subscription.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const TOPIC = "plant.line1.temp";
const COUNT = 2_000;

interface Received {
  got: number[];
  delays: number[];
}

/** B subscribes; resolves once A knows it. */
async function subscribe(pair: UpgradePair): Promise<Received> {
  const received: Received = { got: [], delays: [] };
  pair.b.node.subscribe(TOPIC, (m: PubSubMessage) => {
    const { i, t } = m.payload as { i: number; t: number };
    received.got.push(i);
    received.delays.push(performance.now() - t);
  });
  await pair.a.node.pubsub.ready(TOPIC, { signal: AbortSignal.timeout(5_000) });
  return received;
}

/** Publish `COUNT` messages, one per ms or so; `at(i)` runs (awaited) before message `i`. */
async function stream(pair: UpgradePair, at: (i: number) => Promise<void> | void): Promise<void> {
  for (let i = 0; i < COUNT; i++) {
    await at(i);
    const result = await pair.a.node.publish(TOPIC, { i, t: performance.now() });
    assertEquals(result.remote, 1, `message ${i} was sent to B`);
    if (i % 4 === 3) await sleep(1);
  }
}

/** Every message exactly once, in order. */
async function assertExactlyOnceInOrder(received: Received): Promise<void> {
  await until(() => received.got.length >= COUNT, 10_000, `all ${COUNT} messages (got ${received.got.length})`);
  await sleep(200); // no late duplicates either
  assertEquals(received.got.length, COUNT, "no duplicates");
  for (let i = 0; i < COUNT; i++) if (received.got[i] !== i) assertEquals(received.got[i], i, `message ${i} in order`);
}

const max = (values: number[]) => Math.max(...values).toFixed(1);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

function report(what: string, pair: UpgradePair, received: Received, extra = ""): void {
  const d = received.delays;
  const copies = pair.b.node.metrics.registry.counter("macula_pubsub_dropped_total", "").get({
    reason: "duplicate-or-late",
  });
  extra += `; copies dropped by B's sequence guard ${copies}`;
  console.log(
    `${what}: delay p50 ${percentile(d, 0.5).toFixed(1)} ms, p99 ${percentile(d, 0.99).toFixed(1)} ms, max ${
      Math.max(...d).toFixed(1)
    } ms${extra}`,
  );
}

Deno.test({
  name: "pubsub: a continuous stream survives the relay → direct upgrade: every message once, in order",
  ...opts,
  async fn() {
    const pair = await upgradePair({ latency: 15 });
    try {
      const received = await subscribe(pair);
      const relayedConn = pair.relayed;
      let switchMs = 0;
      let relayedAfterSwitch = 0;
      await stream(pair, async (i) => {
        if (i === 600) {
          assertEquals(received.got.length > 0, true, "messages flow over the relay first");
          assert(pair.a.relay.bytesOf(relayedConn) > 0);
          switchMs = await pair.upgrade();
        }
        if (i === 900) relayedAfterSwitch = pair.a.relay.bytesOf(relayedConn);
      });
      await assertExactlyOnceInOrder(received);
      const relayedAtEnd = pair.a.relay.bytesOf(relayedConn);
      report(
        "upgrade",
        pair,
        received,
        `; before the switch (relayed, 15 ms one way) max ${max(received.delays.slice(0, 600))} ms, the 100 messages ` +
          `after it max ${max(received.delays.slice(600, 700))} ms, the rest max ${
            max(received.delays.slice(700))
          } ms` +
          `; switch-over ${
            switchMs.toFixed(1)
          } ms; relayed bytes ${relayedAfterSwitch} 300 messages after it, ${relayedAtEnd} at the end`,
      );
      assertEquals(relayedAtEnd, relayedAfterSwitch, "nothing more goes through the relay after the switch");
      assert(pair.a.direct.bytesOf(pair.a.node.connection(pair.b.node.id)!) > 0, "the direct connection carries it");
    } finally {
      await pair.stop();
    }
  },
});

Deno.test({
  name:
    "pubsub: the direct connection dies mid-stream while the relayed one is still open: falls back, no loss, no duplicate",
  ...opts,
  async fn() {
    const pair = await upgradePair({ latency: 5, limits: { duplicateGrace: 30_000 } });
    try {
      const received = await subscribe(pair);
      await pair.upgrade();
      assert(!pair.relayed.isClosed, "the relayed connection is kept while it carries streams");
      await stream(pair, async (i) => {
        if (i === 700) {
          pair.a.direct.kill(); // both ends of the direct path die; no direct dial works any more
          await until(() => pair.a.node.connection(pair.b.node.id) === pair.relayed, 2_000, "A uses the relayed one");
        }
      });
      await assertExactlyOnceInOrder(received);
      report("fallback to the open relayed connection", pair, received);
      assert(pair.a.node.connection(pair.b.node.id)?.relayed, "still relayed");
    } finally {
      await pair.stop();
    }
  },
});

Deno.test({
  name:
    "pubsub: the direct connection dies after the relayed one closed: the relayed path is re-dialed, no loss, no duplicate",
  ...opts,
  async fn() {
    const pair = await upgradePair({ latency: 5, limits: { duplicateGrace: 300 } });
    try {
      const received = await subscribe(pair);
      await pair.upgrade();
      await until(() => pair.relayed.isClosed, 5_000, "the relayed connection closes once quiet");
      let disconnects = 0;
      pair.a.node.on("peer:disconnect", () => disconnects++);
      pair.b.node.on("peer:disconnect", () => disconnects++);
      let killedAt = 0;
      await stream(pair, (i) => {
        if (i === 700) {
          killedAt = performance.now();
          pair.a.direct.kill();
        }
      });
      await assertExactlyOnceInOrder(received);
      const now = pair.a.node.connection(pair.b.node.id);
      assert(now?.relayed && now !== pair.relayed, "a new relayed connection carries the stream");
      report(
        "fallback by re-dialing the relay",
        pair,
        received,
        `; stream ended ${(performance.now() - killedAt).toFixed(0)} ms after the kill`,
      );
      assertEquals(disconnects, 0, "neither side reported the peer gone");
    } finally {
      await pair.stop();
    }
  },
});

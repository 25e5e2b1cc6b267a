/** The console snapshot from real in-memory nodes. */
import { SnapshotBuilder } from "../../src/console/snapshot.ts";
import { SeriesSampler } from "../../src/console/series.ts";
import { CONSOLE_PROTOCOL_VERSION } from "../../src/console/protocol.ts";
import { RateWindow } from "../../src/console/rates.ts";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import { joinedNodes, MemoryNetwork, until } from "../helpers/nodes.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

Deno.test("snapshot: peers appear with their ids, a stopped one turns connected=false, then drops out", async () => {
  const [a, b, c] = await joinedNodes(new MemoryNetwork(), 3, "star");
  try {
    const snap = new SnapshotBuilder(a, { keepDisconnected: 300 });
    await until(() => a.peers().length === 2, 3000, "two peers");
    const first = snap.take();
    assertEquals(first.v, CONSOLE_PROTOCOL_VERSION);
    assertEquals(first.node.id, a.did);
    assertEquals(first.peers.map((p) => p.id).sort(), [b.did, c.did].sort());
    for (const p of first.peers) {
      assertEquals(p.connected, true);
      assertEquals(p.path, "direct");
      assertEquals(p.transport, "memory");
      assert(p.since > 0 && p.since <= Date.now());
    }
    assertEquals(first.realms.map((r) => r.name), a.realms);
    assertEquals(first.members, []); // no cluster service
    assert(first.content !== undefined, "the content section is there");
    await c.stop();
    await until(() => a.peers().length === 1, 3000, "c gone");
    const second = snap.take();
    const gone = second.peers.find((p) => p.id === c.did);
    assertEquals(gone?.connected, false);
    assertEquals(second.peers.find((p) => p.id === b.did)?.connected, true);
    await new Promise((r) => setTimeout(r, 400));
    assertEquals(snap.take().peers.map((p) => p.id), [b.did]);
  } finally {
    await Promise.all([a.stop(), b.stop(), c.stop()]);
  }
});

Deno.test("snapshot: topic subscribers and rates move after publishes; RPC providers and call rates", async () => {
  const [a, b] = await joinedNodes(new MemoryNetwork(), 2);
  try {
    const sub = b.subscribe("console.test", () => {});
    await b.pubsub.whenAnnounced();
    await a.pubsub.ready("console.test", { signal: AbortSignal.timeout(5000) });
    const snap = new SnapshotBuilder(a);
    snap.take(Date.now() - 2000); // a base reading, 2 s ago
    for (let i = 0; i < 10; i++) await a.publish("console.test", { i });
    const topic = snap.take().realms[0].topics.find((t) => t.topic === "console.test");
    assert(topic, "the topic is listed");
    assertEquals(topic.subscribers, 1);
    assert(topic.rate >= 4 && topic.rate <= 10, `rate ${topic.rate}`);
    const atB = new SnapshotBuilder(b).take().realms[0].topics.find((t) => t.topic === "console.test");
    assertEquals(atB?.subscribers, 1, "b's own subscription counts");

    b.advertise("console.echo", (args) => args);
    const before = new SnapshotBuilder(b).take().realms[0].procedures.find((p) => p.procedure === "console.echo");
    assertEquals(before?.providers, [b.did]);
    const snapA = new SnapshotBuilder(a);
    snapA.take(Date.now() - 1000);
    await until(async () => (await a.call("console.echo", 1).catch(() => null)) === 1, 5000, "a call");
    for (let i = 0; i < 4; i++) await a.call("console.echo", i);
    const proc = snapA.take().realms[0].procedures.find((p) => p.procedure === "console.echo");
    assert(proc, "the procedure is listed at the caller");
    assertEquals(proc.providers, [b.did]);
    assert(proc.rate > 0, `rate ${proc.rate}`);
    sub.unsubscribe();
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

Deno.test("snapshot: JSON stays small (a few KB) with an empty series", async () => {
  const [a, b] = await joinedNodes(new MemoryNetwork(), 2);
  try {
    const size = JSON.stringify(new SnapshotBuilder(a).take()).length;
    assert(size < 4096, `snapshot is ${size} bytes`);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

Deno.test("rates: counts per second over the window, 0 at first, the base moves with the window", () => {
  const w = new RateWindow(10_000);
  assertEquals(w.record(0, new Map([["x", 5]])).get("x"), 0);
  assertEquals(w.record(5_000, new Map([["x", 10]])).get("x"), 1);
  assertEquals(w.record(10_000, new Map([["x", 25]])).get("x"), 2);
  // 20 s: the 10 s reading is the base now.
  assertEquals(w.record(20_000, new Map([["x", 45]])).get("x"), 2);
});

Deno.test("series: a ring of at most `points`, oldest first, rates from counter deltas", () => {
  const metrics = new MetricsRegistry();
  const published = metrics.counter("macula_pubsub_published_total", "p");
  const bytes = metrics.counter("macula_content_served_bytes_total", "b");
  let peers = 0;
  metrics.gauge("macula_peers", "peers", () => peers);
  const s = new SeriesSampler({ metrics, rss: () => 1234, points: 3 });
  s.sample(1000);
  published.inc({}, 10);
  bytes.inc({}, 4096);
  peers = 2;
  s.sample(2000);
  s.sample(3000);
  s.sample(4000);
  const out = s.series();
  assertEquals(out.t, [2000, 3000, 4000]);
  assertEquals(out.msgs, [10, 0, 0]);
  assertEquals(out.bytes, [4096, 0, 0]);
  assertEquals(out.connections, [2, 2, 2]);
  assertEquals(out.rss, [1234, 1234, 1234]);
  assert(!s.running);
});

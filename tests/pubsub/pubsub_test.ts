/**
 * Pub/sub across real nodes on an in-memory network.
 */
import { assert, assertEquals, assertRejects, assertThrows } from "../helpers/assert.ts";
import { joinedNodes, MemoryNetwork, memoryNode, until } from "../helpers/nodes.ts";
import type { Node, NodeOptions } from "../../src/api/node.ts";
import type { PubSubMessage } from "../../src/pubsub/subscription.ts";
import { PayloadTooLargeError } from "../../src/pubsub/pubsub.ts";
import { TopicError } from "../../src/pubsub/topic.ts";
import { RealmError } from "../../src/dht/dht.ts";
import { encodeCbor } from "../../src/wire/cbor.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

const chain = (network: MemoryNetwork, length: number, options: Partial<NodeOptions> = {}) =>
  joinedNodes(network, length, "chain", () => options);

async function stopAll(nodes: Node[]) {
  await Promise.all(nodes.map((n) => n.stop()));
}

Deno.test({
  name: "pubsub: a subscriber at one end of a chain gets every message from the other end, once, in order",
  ...opts,
  async fn() {
    const nodes = await chain(new MemoryNetwork(), 5);
    const [pub, , , , sub] = nodes;
    try {
      // Make sure the ends are not directly connected when the subscription starts.
      pub.connection(sub.id)?.close();
      await until(() => !pub.connection(sub.id), 2000, "ends disconnected");
      const got: PubSubMessage[] = [];
      sub.subscribe("sensors.*.temp", (m) => got.push(m));
      await sub.pubsub.whenAnnounced();
      for (let i = 0; i < 200; i++) await pub.publish("sensors.kitchen.temp", { i });
      await until(() => got.length === 200, 5000, "all messages");
      assertEquals(got.map((m) => (m.payload as { i: number }).i), Array.from({ length: 200 }, (_, i) => i));
      assert(got.every((m) => m.publisher.equals(pub.id) && m.topic === "sensors.kitchen.temp"));
      await new Promise((r) => setTimeout(r, 100));
      assertEquals(got.length, 200, "no duplicates");
    } finally {
      await stopAll(nodes);
    }
  },
});

Deno.test({
  name: "pubsub: exact, * and > patterns, local subscribers, and unsubscribe",
  ...opts,
  async fn() {
    const nodes = await chain(new MemoryNetwork(), 3);
    const [a, b, c] = nodes;
    try {
      const seen: Record<string, string[]> = { exact: [], star: [], rest: [], local: [] };
      c.subscribe("home.kitchen.light", (m) => seen.exact.push(m.topic));
      const star = b.subscribe("home.*.light", (m) => seen.star.push(m.topic));
      c.subscribe("home.>", (m) => seen.rest.push(m.topic));
      a.subscribe("home.kitchen.light", (m) => seen.local.push(m.topic));
      await Promise.all(nodes.map((n) => n.pubsub.whenAnnounced()));
      await a.publish("home.kitchen.light", 1);
      await a.publish("home.garage.light", 2);
      await a.publish("home.garage.door.open", 3);
      await a.publish("office.kitchen.light", 4);
      await until(() => seen.rest.length === 3 && seen.star.length === 2, 3000, "deliveries");
      assertEquals(seen.exact, ["home.kitchen.light"]);
      assertEquals(seen.star, ["home.kitchen.light", "home.garage.light"]);
      assertEquals(seen.rest, ["home.kitchen.light", "home.garage.light", "home.garage.door.open"]);
      assertEquals(seen.local, ["home.kitchen.light"]);
      star.unsubscribe();
      await b.pubsub.whenAnnounced();
      await a.publish("home.hall.light", 5);
      await until(() => seen.rest.length === 4, 3000, "after unsubscribe");
      await new Promise((r) => setTimeout(r, 100));
      assertEquals(seen.star.length, 2, "no delivery after unsubscribe");
    } finally {
      await stopAll(nodes);
    }
  },
});

Deno.test({
  name: "pubsub: nothing crosses realms",
  ...opts,
  async fn() {
    const network = new MemoryNetwork();
    const both = await memoryNode(network, { realms: ["red", "blue"] });
    const red = await memoryNode(network, { realms: ["red"] });
    const blue = await memoryNode(network, { realms: ["blue"] });
    const nodes = [both, red, blue];
    try {
      await red.connect(both.addrs[0]);
      await blue.connect(both.addrs[0]);
      await until(() => red.dht.table("red").size > 0 && blue.dht.table("blue").size > 0, 2000, "join");
      const gotRed: unknown[] = [];
      const gotBlue: unknown[] = [];
      red.subscribe("alerts", (m) => gotRed.push(m.payload));
      blue.subscribe("alerts", (m) => gotBlue.push(m.payload));
      await Promise.all(nodes.map((n) => n.pubsub.whenAnnounced()));
      await both.publish("alerts", "to-red", { realm: "red" });
      await both.publish("alerts", "to-blue", { realm: "blue" });
      await until(() => gotRed.length === 1 && gotBlue.length === 1, 3000, "deliveries");
      await new Promise((r) => setTimeout(r, 100));
      assertEquals(gotRed, ["to-red"]);
      assertEquals(gotBlue, ["to-blue"]);
      assertThrows(() => red.subscribe("alerts", () => {}, { realm: "blue" }), RealmError);
    } finally {
      await stopAll(nodes);
    }
  },
});

Deno.test({
  name: "pubsub: a dead subscriber does not stall the others",
  ...opts,
  async fn() {
    const nodes = await chain(new MemoryNetwork(), 4);
    const [pub, s1, s2, s3] = nodes;
    try {
      const got = new Map<string, number>([[s1.did, 0], [s2.did, 0], [s3.did, 0]]);
      for (const s of [s1, s2, s3]) s.subscribe("jobs.>", () => got.set(s.did, got.get(s.did)! + 1));
      await Promise.all(nodes.map((n) => n.pubsub.whenAnnounced()));
      await pub.publish("jobs.a", 0);
      await until(() => [...got.values()].every((n) => n === 1), 3000, "first round");
      await s2.stop();
      const started = performance.now();
      for (let i = 0; i < 100; i++) await pub.publish("jobs.a", i);
      await until(() => got.get(s1.did) === 101 && got.get(s3.did) === 101, 3000, "others keep receiving");
      assert(performance.now() - started < 2000, "no stall");
    } finally {
      await stopAll(nodes);
    }
  },
});

Deno.test({
  name: "pubsub: bounded fan-out — 7 subscribers, fan-out 2: two direct sends, everyone gets each message once",
  ...opts,
  async fn() {
    const network = new MemoryNetwork();
    const nodes = await chain(network, 8, { pubsub: { maxFanout: 2 } });
    const [pub, ...subs] = nodes;
    try {
      const counts = new Map<string, number[]>();
      for (const s of subs) {
        counts.set(s.did, []);
        s.subscribe("fleet.>", (m) => {
          if (m.topic === "fleet.update") counts.get(s.did)!.push(m.payload as number);
        });
      }
      await Promise.all(nodes.map((n) => n.pubsub.whenAnnounced()));
      // Let the directory see all 7 (neighbours + DHT).
      await until(async () => (await pub.publish("fleet.warmup", 0)).remote === 7, 5000, "7 subscribers known");
      await new Promise((r) => setTimeout(r, 100)); // the warm-up's acknowledgements (sent counts them)
      const before = pub.metrics.registry.render();
      for (let i = 1; i <= 20; i++) await pub.publish("fleet.update", i);
      await until(() => [...counts.values()].every((c) => c.length === 20), 5000, "all delivered");
      for (const c of counts.values()) assertEquals(c, Array.from({ length: 20 }, (_, i) => i + 1));
      const sent = (text: string, route: string) =>
        Number(new RegExp(`macula_pubsub_messages_sent_total\\{route="${route}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
      // Sent means acknowledged by the receiver: the last acknowledgements follow the deliveries.
      const forwarded = () => sent(pub.metrics.registry.render(), "via-forwarder") - sent(before, "via-forwarder");
      await until(() => forwarded() >= 40, 2000, "acknowledgements");
      await new Promise((r) => setTimeout(r, 50));
      const after = pub.metrics.registry.render();
      assertEquals(sent(after, "via-forwarder") - sent(before, "via-forwarder"), 40, "2 heads per message");
      assertEquals(sent(after, "direct") - sent(before, "direct"), 0);
    } finally {
      await stopAll(nodes);
    }
  },
});

Deno.test({
  name: "pubsub: payload limits, bad topics and iterator subscriptions",
  ...opts,
  async fn() {
    const network = new MemoryNetwork();
    const a = await memoryNode(network, { pubsub: { maxPayload: 1024 } });
    try {
      await assertRejects(() => a.publish("big.one", new Uint8Array(2000)), PayloadTooLargeError, "1024");
      await assertRejects(() => a.publish("bad topic", 1), TopicError);
      await assertRejects(() => a.publish("wild.*", 1), TopicError);
      assertThrows(() => a.subscribe("a.>.b"), TopicError);
      const sub = a.subscribe("count.*");
      const received: unknown[] = [];
      const reader = (async () => {
        for await (const m of sub) {
          received.push(m.payload);
          if (received.length === 3) break;
        }
      })();
      for (let i = 0; i < 3; i++) await a.publish("count.up", i);
      await reader;
      assertEquals(received, [0, 1, 2]);
      assert(sub.closed, "leaving the loop unsubscribes");
    } finally {
      await a.stop();
    }
  },
});

Deno.test({
  name: "pubsub: a forged forwarded message (no origin signature) is refused and the sender disconnected",
  ...opts,
  async fn() {
    const network = new MemoryNetwork();
    const victim = await memoryNode(network);
    const attacker = await memoryNode(network);
    const innocent = await memoryNode(network);
    try {
      const got: unknown[] = [];
      victim.subscribe("orders.>", (m) => got.push(m.payload));
      const conn = await attacker.connect(victim.addrs[0]);
      const stream = await conn.openStream("/macula/pubsub/2");
      await stream.writeFrame(encodeCbor({
        t: "msg",
        r: "default",
        o: innocent.id.bytes, // claims to come from someone else
        e: 1,
        s: 1,
        tp: "orders.new",
        d: "fake order",
      }));
      await conn.closed;
      assertEquals(got, []);
      assertEquals(victim.metrics.protocolViolations.get(), 1);
    } finally {
      await stopAll([victim, attacker, innocent]);
    }
  },
});

Deno.test({
  name: "pubsub: forwarders split their list again (9 subscribers, fan-out 2): signed bytes pass on, once, in order",
  ...opts,
  async fn() {
    const nodes = await chain(new MemoryNetwork(), 10, { pubsub: { maxFanout: 2 } });
    const [pub, ...subs] = nodes;
    try {
      const got = new Map<string, unknown[]>(subs.map((s) => [s.did, []]));
      for (const s of subs) s.subscribe("deep.>", (m) => m.topic === "deep.data" && got.get(s.did)!.push(m.payload));
      await Promise.all(nodes.map((n) => n.pubsub.whenAnnounced()));
      assertEquals(await pub.pubsub.ready("deep.data", { min: 9, signal: AbortSignal.timeout(5000) }), 9);
      const payloads = Array.from({ length: 30 }, (_, i) => ({ i, blob: new Uint8Array(i * 10).fill(i), f: 0.1 * i }));
      for (const p of payloads) await pub.publish("deep.data", p);
      await until(() => [...got.values()].every((g) => g.length === 30), 5000, "all delivered");
      for (const g of got.values()) assertEquals(g, payloads);
      const viaForwarder = (n: Node) =>
        Number(
          /macula_pubsub_messages_sent_total\{route="via-forwarder"\} (\d+)/.exec(n.metrics.registry.render())?.[1] ??
            0,
        );
      assert(subs.some((s) => viaForwarder(s) > 0), "a forwarder forwarded through another forwarder");
      await new Promise((r) => setTimeout(r, 100));
      for (const g of got.values()) assertEquals(g.length, 30, "no duplicates");
    } finally {
      await stopAll(nodes);
    }
  },
});

Deno.test({
  name: "pubsub: a publisher that stops right after publishing loses nothing (QUIC and TCP on loopback)",
  ...opts,
  async fn() {
    const { loopbackNode } = await import("../helpers/nodes.ts");
    for (const transport of ["quic", "tcp"] as const) {
      const sub = await loopbackNode({ transports: [transport] });
      const pub = await loopbackNode({ transports: [transport] });
      try {
        const got: number[] = [];
        sub.subscribe("last.words", (m) => got.push(m.payload as number));
        await pub.connect(sub.addrs[0]);
        await pub.pubsub.ready("last.words", { signal: AbortSignal.timeout(5_000) });
        for (let i = 0; i < 50; i++) await pub.publish("last.words", i);
        await pub.stop(); // at once: the queued messages must still arrive
        await until(() => got.length === 50, 3000, `all 50 over ${transport} (got ${got.length})`);
        assertEquals(got, Array.from({ length: 50 }, (_, i) => i));
      } finally {
        await pub.stop();
        await sub.stop();
      }
    }
  },
});

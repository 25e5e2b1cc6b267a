/**
 * `PubSubService.ready()` and the event-driven `whenAnnounced()`/`flush()`
 * across real nodes on an in-memory network.
 */
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { joinedNodes, MemoryNetwork, until } from "../helpers/nodes.ts";
import { SubscriberDirectory } from "../../src/pubsub/directory.ts";
import { AbortedError } from "../../src/util/async.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

const chain = (network: MemoryNetwork, length: number) => joinedNodes(network, length);

/** Whether `promise` settled within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((r) => timer = setTimeout(() => r(false), ms));
  const settled = promise.then(() => true, () => true);
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test({
  name: "pubsub ready: two nodes — waits for the neighbour's subscription, then a publish reaches it",
  ...opts,
  async fn() {
    const nodes = await chain(new MemoryNetwork(), 2);
    const [a, b] = nodes;
    try {
      const ready = a.pubsub.ready("news.world");
      assertEquals(await settlesWithin(ready, 300), false, "nobody subscribes yet");
      const got: unknown[] = [];
      b.subscribe("news.>", (m) => got.push(m.payload));
      const started = performance.now();
      assertEquals(await ready, 1);
      assert(performance.now() - started < 1000, "woken by the announcement, not a slow retry");
      assertEquals((await a.publish("news.world", "hello")).remote, 1);
      await until(() => got.length === 1, 3000, "delivery");
      assertEquals(got, ["hello"]);
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
    }
  },
});

Deno.test({
  name: "pubsub ready: three nodes — min: 2 waits for the second subscriber node",
  ...opts,
  async fn() {
    const nodes = await chain(new MemoryNetwork(), 3);
    const [a, b, c] = nodes;
    try {
      b.subscribe("jobs.*");
      const ready = a.pubsub.ready("jobs.new", { min: 2 });
      assertEquals(await settlesWithin(ready, 400), false, "only one subscriber node so far");
      c.subscribe("jobs.new");
      assertEquals(await ready, 2);
      assertEquals((await a.publish("jobs.new", 1)).remote, 2);
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
    }
  },
});

Deno.test({
  name: "pubsub ready: finds a subscriber at the far end of a chain (DHT directory or announcement)",
  ...opts,
  async fn() {
    const nodes = await chain(new MemoryNetwork(), 3);
    const [a, , c] = nodes;
    try {
      a.connection(c.id)?.close();
      await until(() => !a.connection(c.id), 2000, "ends disconnected");
      const ready = a.pubsub.ready("far.away");
      assertEquals(await settlesWithin(ready, 200), false);
      c.subscribe("far.>");
      await c.pubsub.whenAnnounced(); // the DHT record is stored
      assertEquals(await ready, 1);
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
    }
  },
});

Deno.test({
  name: "pubsub ready: aborting rejects with AbortedError (before and while waiting)",
  ...opts,
  async fn() {
    const nodes = await chain(new MemoryNetwork(), 2);
    const [a] = nodes;
    try {
      await assertRejects(() => a.pubsub.ready("nobody.here", { signal: AbortSignal.abort() }), AbortedError);
      const controller = new AbortController();
      const ready = a.pubsub.ready("nobody.here", { signal: controller.signal });
      assertEquals(await settlesWithin(ready, 200), false);
      const started = performance.now();
      controller.abort();
      await assertRejects(() => ready, AbortedError);
      assert(performance.now() - started < 100, "rejects at once");
      await assertRejects(
        () => a.pubsub.ready("nobody.here", { signal: AbortSignal.timeout(300), min: 1 }),
        AbortedError,
      );
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
    }
  },
});

Deno.test({
  name: "pubsub: whenAnnounced waits for the announce, flush for the queues to drain",
  ...opts,
  async fn() {
    const nodes = await chain(new MemoryNetwork(), 2);
    const [a, b] = nodes;
    try {
      await a.pubsub.flush(); // nothing queued: at once
      const got: number[] = [];
      b.subscribe("count.>", (m) => got.push(m.payload as number));
      await b.pubsub.whenAnnounced();
      // The announcement left b: a learns of it without any publish.
      assertEquals(await a.pubsub.ready("count.up", { signal: AbortSignal.timeout(2000) }), 1);
      for (let i = 0; i < 500; i++) await a.publish("count.up", i); // queued, not yet written
      const started = performance.now();
      await a.pubsub.flush(5_000);
      assert(performance.now() - started < 2000, "flush resolved on the drain, not the deadline");
      await until(() => got.length === 500, 3000, "deliveries");
      assertEquals(got, Array.from({ length: 500 }, (_, i) => i));
      // A subscription made and dropped before the announce fires: whenAnnounced still settles.
      b.subscribe("tmp.x").unsubscribe();
      assertEquals(await settlesWithin(b.pubsub.whenAnnounced(), 1000), true);
      // So does one whose announce never runs because the node stops first.
      b.subscribe("tmp.y");
      const pending = b.pubsub.whenAnnounced();
      await b.stop();
      assertEquals(await settlesWithin(pending, 1000), true);
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
    }
  },
});

Deno.test({
  name: "pubsub directory: refresh asks the DHT again within the cache lifetime, and changes are announced",
  ...opts,
  async fn() {
    const nodes = await chain(new MemoryNetwork(), 3);
    const [a, , c] = nodes;
    try {
      // A directory of a's that hears no announcements: only the DHT can tell it.
      const directory = new SubscriberDirectory(a.dht, a.id, { cacheTtl: 60_000 });
      let changes = 0;
      const off = directory.onChange(() => changes++);
      const realm = a.realms[0];
      assertEquals(await directory.subscribers(realm, "far.away"), []);
      c.subscribe("far.>");
      await c.pubsub.whenAnnounced();
      assertEquals(await directory.subscribers(realm, "far.away"), [], "the cached answer");
      const before = changes;
      const found = await directory.subscribers(realm, "far.away", { refresh: true });
      assertEquals(found.map((id) => id.hex), [c.id.hex]);
      assert(changes > before, "the new DHT answer was announced");
      directory.dropNeighbour(c.id);
      const counted = changes;
      assert(counted > before + 1, "a neighbour change is announced");
      off();
      directory.setNeighbour(c.id, realm, ["x"]);
      assertEquals(changes, counted, "no calls after off()");
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
    }
  },
});

/**
 * RPC across real nodes on an in-memory network.
 */
import { assert, assertEquals, assertRejects, assertThrows } from "../helpers/assert.ts";
import { joinedNodes, MemoryNetwork, memoryNode, until } from "../helpers/nodes.ts";
import type { Node } from "../../src/api/node.ts";
import { NoProviderError } from "../../src/rpc/rpc.ts";
import { RemoteHandlerError } from "../../src/node/expose.ts";
import { AbortedError, TimeoutError } from "../../src/util/async.ts";
import { TopicError } from "../../src/pubsub/topic.ts";
import { MaculaError } from "../../src/util/errors.ts";
import { encodeCbor } from "../../src/wire/cbor.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

const chain = (network: MemoryNetwork, length: number) => joinedNodes(network, length);

async function announced(node: Node, procedure: string, expected: number): Promise<void> {
  const { realmKey } = await import("../../src/dht/keys.ts");
  await until(
    async () =>
      (await node.dht.findProviders("default", realmKey("default", "rpc", procedure), { limit: 20 })).length >=
        expected,
    3000,
    `${expected} providers of ${procedure}`,
  );
}

Deno.test({
  name: "rpc: call across a chain; typed errors for handler failure, no provider, timeout and cancellation",
  ...opts,
  async fn() {
    const nodes = await chain(new MemoryNetwork(), 5);
    const [caller, , middle, , provider] = nodes;
    try {
      provider.advertise("math.add", (args, ctx) => {
        const { a, b } = args as { a: number; b: number };
        return { sum: a + b, caller: ctx.from.did };
      });
      middle.advertise("math.fail", () => {
        throw new Error("division by zero");
      });
      middle.advertise("math.slow", () => new Promise((r) => setTimeout(() => r("late"), 2_000)));
      await announced(caller, "math.add", 1);
      await announced(caller, "math.slow", 1);
      assertEquals(await caller.call("math.add", { a: 2, b: 3 }), { sum: 5, caller: caller.did });
      const e = await assertRejects(() => caller.call("math.fail", null), RemoteHandlerError, "division by zero");
      assertEquals((e as RemoteHandlerError).remoteMessage, "division by zero");
      await assertRejects(() => caller.call("math.missing", null, { timeout: 2000 }), NoProviderError, "math.missing");
      await assertRejects(() => caller.call("math.slow", null, { timeout: 300 }), TimeoutError);
      const controller = new AbortController();
      const pending = caller.call("math.slow", null, { signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      await assertRejects(() => pending, AbortedError);
      assertThrows(() => caller.advertise("bad name!", () => 1), TopicError);
      // the same procedure twice on one node is refused
      assertThrows(() => provider.advertise("math.add", () => 1), MaculaError, "already advertised");
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
    }
  },
});

Deno.test({
  name: "rpc: a provider dying mid-call fails over to another provider",
  ...opts,
  async fn() {
    const nodes = await chain(new MemoryNetwork(), 4);
    const [caller, , p1, p2] = nodes;
    try {
      const served: string[] = [];
      let started!: () => void;
      const callStarted = new Promise<void>((r) => started = r);
      for (const p of [p1, p2]) {
        p.advertise("job.run", async () => {
          served.push(p.did);
          started();
          await new Promise((r) => setTimeout(r, 300));
          return p.did;
        });
      }
      await announced(caller, "job.run", 2);
      const pending = caller.call("job.run", null, { timeout: 5000 });
      await callStarted;
      const first = served[0];
      await (first === p1.did ? p1 : p2).stop(); // kill the provider serving the call
      const result = await pending;
      assertEquals(served.length, 2);
      assertEquals(result, served[1]);
      assert(result !== first, "answered by the other provider");
      assert(caller.metrics.registry.render().includes("macula_rpc_failovers_total 1"));
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
    }
  },
});

Deno.test({
  name: "rpc: of two connected providers, the one with the lower round trip is used; concurrent calls share one stream",
  ...opts,
  async fn() {
    const network = new MemoryNetwork();
    // A star: the caller is connected to both providers; their links differ only in latency.
    const nodes = await joinedNodes(network, 3, "star");
    const [caller, first, second] = nodes;
    const name = (n: Node) => new URL(n.addrs[0]).host;
    /** Give the caller ↔ `slow` link a 40 ms round trip and the caller ↔ `fast` link none, then re-measure. */
    const makeSlow = async (slow: Node, fast: Node) => {
      network.setLinkLatency(name(caller), name(slow), 20);
      network.setLinkLatency(name(slow), name(caller), 20);
      network.setLinkLatency(name(caller), name(fast), 0);
      network.setLinkLatency(name(fast), name(caller), 0);
      const slowRtt = await caller.ping(slow.id);
      const fastRtt = await caller.ping(fast.id);
      assert(slowRtt >= 38 && fastRtt < slowRtt, `measured ${slowRtt.toFixed(1)} vs ${fastRtt.toFixed(1)} ms`);
    };
    try {
      first.advertise("whoami", () => "first");
      second.advertise("whoami", () => "second");
      await announced(caller, "whoami", 2);
      assert(caller.connection(first.id) && caller.connection(second.id), "both providers connected");
      // Each provider in turn is the faster one, so list order alone cannot pass both rounds.
      for (const [slow, fast, expected] of [[first, second, "second"], [second, first, "first"]] as const) {
        await makeSlow(slow, fast);
        const results = await Promise.all(Array.from({ length: 50 }, () => caller.call("whoami", null)));
        assertEquals(new Set(results), new Set([expected]), `every call went to the faster provider`);
        const streams = caller.connection(fast.id)!.activeStreams;
        assert(streams <= 4, `streams: ${streams}`);
      }
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
    }
  },
});

Deno.test({
  name: "rpc: malformed requests are a protocol violation; the provider keeps serving",
  ...opts,
  async fn() {
    const network = new MemoryNetwork();
    const provider = await memoryNode(network);
    const attacker = await memoryNode(network);
    const honest = await memoryNode(network);
    try {
      provider.advertise("echo", (x) => x);
      const conn = await attacker.connect(provider.addrs[0]);
      const stream = await conn.openStream("/macula/rpc/1");
      await stream.writeFrame(encodeCbor({ i: 1, b: { r: "default", p: 42 } }));
      await conn.closed;
      assertEquals(provider.metrics.protocolViolations.get(), 1);
      await honest.connect(provider.addrs[0]);
      await until(() => honest.dht.table("default").size > 0, 2000, "join");
      assertEquals(await honest.call("echo", { still: "fine" }), { still: "fine" });
    } finally {
      await Promise.all([provider, attacker, honest].map((n) => n.stop()));
    }
  },
});

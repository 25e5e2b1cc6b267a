/**
 * Services as plug-ins: dependency order, typed look-ups, and what a
 * service can and cannot reach through its host.
 */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { MemoryNetwork, memoryNode } from "../helpers/nodes.ts";
import { orderServices } from "../../src/node/service-set.ts";
import { type NodeService, type ServiceHost, serviceKey } from "../../src/node/service.ts";
import { NodeCore } from "../../src/node/node.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import { Logger } from "../../src/log/logger.ts";
import { verifyDomain } from "../../src/identity/domain-signature.ts";
import { verify } from "../../src/identity/ed25519.ts";
import { DHT, type DhtService } from "../../src/dht/dht.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

function stub(name: string, needs: string[] = [], log: string[] = []): NodeService {
  return {
    name,
    needs: needs.map((n) => serviceKey(n)),
    start: () => void log.push(`start ${name}`),
    stop: () => void log.push(`stop ${name}`),
  };
}

Deno.test("orderServices: dependencies first, stable otherwise", () => {
  const order = orderServices([stub("c", ["b"]), stub("a"), stub("b", ["a"]), stub("d")]).map((s) => s.name);
  assertEquals(order, ["a", "b", "c", "d"]);
});

Deno.test("orderServices: a missing dependency, a cycle and a duplicate name are clear errors", () => {
  assertThrows(() => orderServices([stub("pubsub", ["dht"])]), TypeError, `"pubsub" needs "dht"`);
  assertThrows(() => orderServices([stub("a", ["b"]), stub("b", ["a"])]), TypeError, "a → b → a");
  assertThrows(() => orderServices([stub("a"), stub("a")]), TypeError, "two services");
});

Deno.test({
  name: "a node starts services in dependency order, stops them in reverse, and finds them by typed key",
  ...opts,
  async fn() {
    const log: string[] = [];
    const network = new MemoryNetwork();
    const node = await NodeCore.start({
      keyPair: KeyPair.generate(),
      memory: { network, name: "svc-order" },
      logger: Logger.silent(),
      services: [stub("late", ["early"], log), stub("early", [], log)],
    });
    assertEquals(log, ["start early", "start late"]);
    const EARLY = serviceKey<NodeService>("early");
    assertEquals(node.service(EARLY)?.name, "early");
    assertEquals(node.service(serviceKey("absent")), undefined);
    await node.stop();
    assertEquals(log, ["start early", "start late", "stop late", "stop early"]);
  },
});

/** A service that records what its host offers. */
class Probe implements NodeService {
  readonly name = "probe";
  readonly needs = [DHT];
  host?: ServiceHost;
  dht?: DhtService;
  start(host: ServiceHost) {
    this.host = host;
    this.dht = host.use(DHT);
  }
  stop() {}
}

Deno.test({
  name: "the host gives a service its declared dependencies, domain-separated signatures and no key pair",
  ...opts,
  async fn() {
    const network = new MemoryNetwork();
    const probe = new Probe();
    await using node = await memoryNode(network, { services: [probe] });
    const host = probe.host!;
    assert(probe.dht === node.dht, "host.use(DHT) is the node's DHT");
    assertEquals(host.id.did, node.did);
    assertEquals([...host.realms], node.realms);
    // Nothing key-like is reachable from the host.
    for (const key of ["keyPair", "secretKey", "privateKey", "seed", "node"]) {
      assertEquals((host as unknown as Record<string, unknown>)[key], undefined, key);
    }
    const message = new TextEncoder().encode("hello");
    const sig = host.sign("example/test", message);
    assert(verifyDomain(node.id.bytes, "example/test", message, sig));
    assert(!verifyDomain(node.id.bytes, "example/other", message, sig), "domains do not share signatures");
    assert(!verify(node.id.bytes, message, sig), "never a signature over the raw bytes");
    assertThrows(() => host.sign("Bad Domain", message), TypeError, "signature domain");
    // Dependencies must be declared.
    assertThrows(() => host.use(serviceKey("pubsub")), TypeError, "without declaring it");
  },
});

Deno.test({
  name: "a service's host: peers by id, what the node knows of them, ping, and events",
  ...opts,
  async fn() {
    const network = new MemoryNetwork();
    const probe = new Probe();
    await using a = await memoryNode(network, { services: [probe] });
    await using b = await memoryNode(network);
    const connects: string[] = [];
    probe.host!.on("peer:connect", (c) => connects.push(c.remoteId.did));
    await a.connect(b.addrs[0]);
    const host = probe.host!;
    assertEquals(host.peers().map((id) => id.did), [b.did]);
    assertEquals(connects, [b.did]);
    const rtt = await host.ping(b.id);
    assert(rtt >= 0);
    const info = host.peer(b.id)!;
    assert(info.connected);
    assertEquals(info.rtt, rtt);
    assertEquals(host.peer(a.id), undefined, "self is no peer");
  },
});

Deno.test({
  name: "a service's authorize hook joins the node-wide policy once started, after NodeOptions.authorize",
  ...opts,
  async fn() {
    const network = new MemoryNetwork();
    const asked: string[] = [];
    const gate: NodeService = {
      name: "gate",
      authorize: (_subject, op) => {
        asked.push(`gate ${op.name}`);
        return op.name !== "refused";
      },
      start() {},
      stop() {},
    };
    const node = await NodeCore.start({
      keyPair: KeyPair.generate(),
      memory: { network, name: "svc-policy" },
      logger: Logger.silent(),
      authorize: (_subject, op) => {
        asked.push(`node ${op.name}`);
        return op.name !== "node-refused";
      },
      services: [gate],
    });
    try {
      const peer = KeyPair.generate();
      const subject = new NodeId(peer.publicKey);
      assertEquals(node.authorize(subject, { kind: "call", name: "fine" }), true);
      assertEquals(node.authorize(subject, { kind: "call", name: "refused" }), false);
      assertEquals(node.authorize(subject, { kind: "call", name: "node-refused" }), false);
      assertEquals(node.authorize(subject, { kind: "call", name: "fine" }, () => false), false);
      assertEquals(asked, [
        "node fine",
        "gate fine",
        "node refused",
        "gate refused",
        "node node-refused",
        "node fine",
        "gate fine",
      ]);
    } finally {
      await node.stop();
    }
    assertEquals(
      node.authorize(new NodeId(KeyPair.generate().publicKey), {
        kind: "call",
        name: "refused",
      }),
      true,
    );
  },
});

import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { loopbackNode, MemoryNetwork, memoryNode, until } from "../helpers/nodes.ts";
import { DialError, LimitError } from "../../src/transport/errors.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import type { Node } from "../../src/api/node.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import { Logger } from "../../src/log/logger.ts";
import { ConnectionManager } from "../../src/node/connection-manager.ts";
import { createNodeMetrics } from "../../src/node/node-metrics.ts";
import { PeerStore } from "../../src/node/peer-store.ts";
import { secureConnection } from "../../src/transport/secure-session.ts";
import { duplexPair } from "../helpers/duplex_pair.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/**
 * Both sides hold the same connection, dialed by the smaller id (connections are identified before they are adopted,
 * and `connect` resolves as soon as any connection to the peer is adopted, so this settles a moment later).
 */
function settledOnSmaller(a: Node, b: Node): boolean {
  const ab = a.connection(b.id);
  const ba = b.connection(a.id);
  if (!ab || !ba || ab.direction === ba.direction) return false;
  const dialer = ab.direction === "outbound" ? a : b;
  return dialer.id.compare((dialer === a ? b : a).id) < 0;
}

/** Both nodes hold exactly one, shared connection to each other, dialed by the smaller id. */
function assertSettledPair(a: Node, b: Node): void {
  const ab = a.connection(b.id);
  const ba = b.connection(a.id);
  assert(ab && ba, "both sides have a connection");
  assert(ab.direction !== ba.direction, `directions must be opposite, got ${ab.direction}/${ba.direction}`);
  const dialer = ab.direction === "outbound" ? a : b;
  const other = dialer === a ? b : a;
  assert(dialer.id.compare(other.id) < 0, "the kept connection is the one dialed by the smaller id");
  assertEquals(a.peers().length, 1);
  assertEquals(b.peers().length, 1);
}

Deno.test({
  name: "simultaneous dials converge on one connection per pair (deterministic tie-break), in memory",
  ...opts,
  async fn() {
    for (let round = 0; round < 20; round++) {
      // With setup latency both dials are in flight at once, so both connections exist.
      const network = new MemoryNetwork({ latency: 5 });
      const a = await memoryNode(network);
      const b = await memoryNode(network);
      try {
        const [ca, cb] = await Promise.all([a.connect(b.addrs[0]), b.connect(a.addrs[0])]);
        assert(ca.remoteId.equals(b.id) && cb.remoteId.equals(a.id));
        await until(
          () => settledOnSmaller(a, b),
          3000,
          "tie-break",
        );
        assertSettledPair(a, b);
        // the survivors still work
        assert((await a.ping(b.id)) >= 0);
      } finally {
        await a.stop();
        await b.stop();
      }
    }
  },
});

Deno.test({
  name: "simultaneous dials over QUIC and over TCP converge too",
  ...opts,
  async fn() {
    for (const transports of [["quic"], ["tcp"]] as const) {
      const a = await loopbackNode({ transports: [...transports] });
      const b = await loopbackNode({ transports: [...transports] });
      try {
        await Promise.all([a.connect(b.addrs[0]), b.connect(a.addrs[0])]);
        await until(
          () => settledOnSmaller(a, b) && a.peers().length === 1 && b.peers().length === 1,
          15_000,
          `${transports[0]} tie-break`,
        );
        assertSettledPair(a, b);
        assert((await b.ping(a.id)) >= 0);
      } finally {
        await a.stop();
        await b.stop();
      }
    }
  },
});

Deno.test({
  name: "seeds: reconnect with exponential backoff after the seed goes away and returns",
  ...opts,
  async fn() {
    const network = new MemoryNetwork();
    const seedKey = KeyPair.generate();
    let seed = await memoryNode(network, { keyPair: seedKey, memory: { network, name: "seed" } });
    const seedAddr = seed.addrs[0];
    const node = await memoryNode(network, {
      seeds: [seedAddr],
      limits: { backoffInitial: 40, backoffMax: 320 },
    });
    try {
      await until(() => !!node.connection(seed.id), 2000, "first connection to the seed");
      await seed.stop();
      await until(() => !node.connection(seed.id), 2000, "seed gone");
      const before = node.metrics.dialFailures.get({ code: "E_DIAL_FAILED" });
      await new Promise((r) => setTimeout(r, 1500));
      const failures = node.metrics.dialFailures.get({ code: "E_DIAL_FAILED" }) - before;
      // Without backoff a tight loop would fail thousands of times; with 40 ms
      // doubling to 320 ms it is a handful (40+80+160+320+320+…).
      assert(failures >= 3 && failures <= 12, `unexpected number of retries in 1.5 s: ${failures}`);
      seed = await memoryNode(network, { keyPair: seedKey, memory: { network, name: "seed" } });
      await until(() => !!node.connection(seed.id), 3000, "reconnection to the returning seed");
    } finally {
      await node.stop();
      await seed.stop();
    }
  },
});

Deno.test({
  name: "idle connections are closed; seeds are kept",
  ...opts,
  async fn() {
    const network = new MemoryNetwork();
    await using a = await memoryNode(network);
    await using b = await memoryNode(network);
    await using c = await memoryNode(network, { limits: { idleTimeout: 300 }, seeds: [a.addrs[0]] });
    await c.connect(b.addrs[0]);
    await until(() => !!c.connection(a.id) && !!c.connection(b.id), 2000, "both connections");
    await until(() => !c.connection(b.id), 4000, "idle connection to b closed");
    assert(c.connection(a.id), "the seed connection stays");
  },
});

Deno.test({
  name: "connection limit: idle connections make room; protected ones do not",
  ...opts,
  async fn() {
    const network = new MemoryNetwork();
    await using seed = await memoryNode(network);
    await using other = await memoryNode(network);
    await using late = await memoryNode(network);
    await using node = await memoryNode(network, {
      limits: { maxConnections: 2, idleTimeout: 60_000 },
      seeds: [seed.addrs[0]],
    });
    await until(() => !!node.connection(seed.id), 2000, "seed");
    await node.connect(other.addrs[0]);
    await until(() => node.peers().length === 2, 2000, "settle");
    // Only a connection quiet for a while (5 s at most) is trimmed.
    await until(() => Date.now() - node.connection(other.id)!.lastActivity > 5_100, 8_000, "quiet");
    // A third peer: the idle unprotected connection (other) is trimmed to admit it.
    await node.connect(late.addrs[0]);
    await until(() => !node.connection(other.id), 2000, "other trimmed");
    assert(node.connection(seed.id), "the seed is protected from trimming");
    assertEquals(node.peers().length, 2);
  },
});

Deno.test({
  name: "connection limit reached with nothing to trim: dial fails with LimitError",
  ...opts,
  async fn() {
    const network = new MemoryNetwork();
    await using seed = await memoryNode(network);
    await using other = await memoryNode(network);
    await using node = await memoryNode(network, { limits: { maxConnections: 1 }, seeds: [seed.addrs[0]] });
    await until(() => !!node.connection(seed.id), 2000, "seed");
    await assertRejects(() => node.connect(other.addrs[0]), LimitError);
  },
});

Deno.test({
  name: "dialing ourselves or an unknown id is a clear DialError",
  ...opts,
  async fn() {
    const network = new MemoryNetwork();
    await using a = await memoryNode(network);
    await assertRejects(() => a.connect(a.addrs[0]), DialError, "our own node id");
    const stranger = KeyPair.generate();
    const { NodeId } = await import("../../src/identity/node-id.ts");
    await assertRejects(() => a.connect(new NodeId(stranger.publicKey).did), DialError, "no known address");
  },
});

Deno.test({
  name: "a restarted peer (same key) replaces its stale connection",
  ...opts,
  async fn() {
    const network = new MemoryNetwork();
    const key = KeyPair.generate();
    await using hub = await memoryNode(network);
    const first = await memoryNode(network, { keyPair: key, memory: { network, name: "restarting" } });
    await first.connect(hub.addrs[0]);
    await until(() => hub.peers().length === 1, 2000, "first connection");
    const old = hub.connection(first.id)!;
    // The peer "crashes" without closing its connection, and comes back.
    const second = await memoryNode(network, { keyPair: key, memory: { network, name: "restarting-2" } });
    await second.connect(hub.addrs[0]);
    await until(() => hub.connection(first.id) !== old, 2000, "new connection adopted");
    assertEquals(hub.peers().length, 1);
    // The stale connection is left to its transport's dead-peer detection; when it
    // closes, the peer stays connected through the new one (no disconnect).
    const disconnects: string[] = [];
    hub.on("peer:disconnect", (id) => disconnects.push(id.did));
    await first.stop();
    await until(() => old.isClosed, 2000, "stale connection closed");
    assert(hub.connection(second.id), "still connected through the new connection");
    assertEquals(disconnects, []);
    await second.stop();
  },
});

Deno.test({
  name: "a slower duplicate from the same dialer (dial race) never costs the kept connection",
  ...opts,
  async fn() {
    // Two connections from a to b in the same direction, the second closed by its
    // dialer right away (as the loser of a QUIC/TCP race is): b must keep the first.
    const network = new MemoryNetwork();
    await using a = await memoryNode(network);
    await using b = await memoryNode(network);
    const disconnects: string[] = [];
    b.on("peer:disconnect", (id) => disconnects.push(id.did));
    const first = await a.connect(b.addrs[0]);
    await until(() => b.peers().length === 1, 2000, "first connection");
    const { MemoryTransport } = await import("../../src/transport/memory.ts");
    // A second, independent link from a's side (a's own manager never sees it);
    // the memory link takes the identity from `localId`, no key is used.
    const extra = new MemoryTransport(network, "extra-dialer");
    await extra.start({ keyPair: KeyPair.generate(), localId: a.id, gate: () => null, onInbound: () => {} });
    const second = await extra.dial({ type: "direct", kind: "memory", host: b.addrs[0].split("/")[2], port: 0 }, b.id);
    await until(() => b.connection(a.id) !== undefined && b.peers().length === 1, 2000, "b adopted the duplicate");
    second.close("lost dial race");
    await new Promise((r) => setTimeout(r, 50));
    assert(b.connection(a.id), "b still has a connection to a");
    assert(!first.isClosed, "the first connection is untouched");
    assertEquals(disconnects, []);
    assertEquals(await b.ping(a.id) >= 0, true);
    await extra.close();
  },
});

/** A pair of authenticated connections between `local` and `remote` over a duplex pair, as `route`. */
async function securePair(local: KeyPair, remote: KeyPair, route: "direct" | "relayed", initiator: boolean) {
  const [x, y] = duplexPair();
  const common = { kind: "tcp", route, remoteAddress: route === "relayed" ? "via relay" : "10.0.0.9:9443" } as const;
  const [mine, theirs] = await Promise.all([
    secureConnection(x, { ...common, role: initiator ? "initiator" : "responder", keyPair: local, gate: () => null }),
    secureConnection(y, { ...common, role: initiator ? "responder" : "initiator", keyPair: remote, gate: () => null }),
  ]);
  return { mine, theirs };
}

Deno.test({
  name: "a direct connection is kept over a relayed one to the same peer, whichever came first",
  ...opts,
  async fn() {
    for (const order of [["relayed", "direct"], ["direct", "relayed"]] as const) {
      for (const relayedDialedByUs of [true, false]) {
        const local = KeyPair.generate();
        const remote = KeyPair.generate();
        const manager = new ConnectionManager({
          localId: new NodeId(local.publicKey),
          transports: [],
          peerStore: new PeerStore(),
          log: Logger.silent(),
          metrics: createNodeMetrics(),
        });
        const pairs = {
          relayed: await securePair(local, remote, "relayed", relayedDialedByUs),
          direct: await securePair(local, remote, "direct", !relayedDialedByUs),
        };
        try {
          for (const route of order) manager.accept(pairs[route].mine);
          const kept = manager.get(new NodeId(remote.publicKey));
          assert(kept === pairs.direct.mine, `${order.join(" then ")}: the direct connection is kept`);
          assertEquals(kept.route, "direct");
          // the relayed one is retired (closed), the direct one stays open
          const info = await pairs.relayed.mine.closed;
          assertEquals(info.reason, "duplicate connection");
          assert(!pairs.direct.mine.isClosed);
          assertEquals(manager.connections(), [pairs.direct.mine]);
        } finally {
          manager.stop();
          for (const p of Object.values(pairs)) p.theirs.close();
        }
      }
    }
  },
});

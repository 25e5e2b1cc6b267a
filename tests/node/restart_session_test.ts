/**
 * A peer that restarts (a new session in identify) replaces its old
 * connections at once, even where the simultaneous-dial tie-break would
 * keep the old one; the same session keeps the tie-break.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { MemoryNetwork, memoryNode, until } from "../helpers/nodes.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import { PEER_RESTARTED } from "../../src/node/connection-manager.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** Two key pairs, the first with the smaller id (so the tie-break keeps what the first dialed). */
function orderedKeys(): [KeyPair, KeyPair] {
  while (true) {
    const [a, b] = [KeyPair.generate(), KeyPair.generate()];
    if (new NodeId(a.publicKey).compare(new NodeId(b.publicKey)) < 0) return [a, b];
  }
}

Deno.test({
  name: "restart: a connection from a peer's new session replaces the old one at once (the tie-break would keep it)",
  ...opts,
  async fn() {
    const network = new MemoryNetwork();
    const [keyA, keyB] = orderedKeys();
    await using a = await memoryNode(network, { keyPair: keyA });
    const b1 = await memoryNode(network, { keyPair: keyB });
    try {
      const old = await a.connect(b1.addrs[0]); // dialed by a, the smaller id: the tie-break keeps it
      await until(() => b1.peers().length === 1, 2000, "b1 adopted");
      const events: string[] = [];
      a.on("peer:disconnect", (_id, info) => events.push(`disconnect ${info.reason}`));
      a.on("peer:connect", () => events.push("connect"));
      // b1 "loses power" without a word (here: it stays up, so only the session can tell) and
      // comes back as b2 with the same identity and a new session, dialing a.
      await using b2 = await memoryNode(network, { keyPair: keyB });
      const fresh = await b2.connect(a.addrs[0]);
      await until(() => a.connection(b2.id) !== old, 2000, "a switched to the new connection");
      const info = await old.closed;
      assertEquals(info.reason, PEER_RESTARTED);
      assertEquals(events, [`disconnect ${PEER_RESTARTED}`, "connect"]);
      assert(!fresh.isClosed, "the restarted peer's connection is kept");
      assertEquals(a.peers().length, 1);
      assertEquals(await b2.ping(a.id) >= 0, true);
      assertEquals(a.metrics.registry.render().match(/macula_connections_superseded_total (\d+)/)?.[1], "1");
    } finally {
      await b1.stop();
    }
  },
});

Deno.test({
  name: "restart: the same session dialing twice is no restart (no disconnect; one connection kept)",
  ...opts,
  async fn() {
    const network = new MemoryNetwork();
    await using a = await memoryNode(network);
    await using b = await memoryNode(network);
    const events: string[] = [];
    a.on("peer:disconnect", (_id, info) => events.push(`disconnect ${info.reason}`));
    await Promise.all([a.connect(b.addrs[0]), b.connect(a.addrs[0])]);
    await until(() => a.peers().length === 1 && b.peers().length === 1, 2000, "connected");
    await new Promise((r) => setTimeout(r, 300));
    assertEquals(events, []);
    assertEquals(a.metrics.registry.render().match(/macula_connections_superseded_total (\d+)/)?.[1] ?? "0", "0");
    assert(a.connection(b.id) && b.connection(a.id));
  },
});

/**
 * Revocation across a closed realm: a middle link revoked at one node
 * spreads to every node (gossip), takes effect at once in cached
 * decisions, survives a restart (file store), reaches a node that was
 * offline (anti-entropy on connect), and a revocation by someone not above
 * the link is ignored.
 */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { MemoryNetwork, memoryNode, until } from "../helpers/nodes.ts";
import type { Node } from "../../src/api/node.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { namespacePolicy } from "../../src/auth/namespace.ts";
import { REVOCATION_TOPIC } from "../../src/auth/auth-service.ts";
import { delegate, type Delegation, revoke, RevokedError, type UcanSigner } from "../../src/ucan/mod.ts";
import type { Operation } from "../../src/node/authorize.ts";
import type { PubSubMessage } from "../../src/pubsub/subscription.ts";
import { closedAuth, closedMesh, grant, inAnHour, newSigner, REALM, sleep, stopAll } from "./helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** authority → owner → team → holder: the middle link is owner → team. */
function threeLinks(authority: UcanSigner, owner: UcanSigner, team: UcanSigner, holder: string): Delegation[] {
  const exp = inAnHour();
  return [
    delegate(authority, {
      aud: owner.did,
      sub: authority.did,
      cmd: "/macula",
      pol: [["like", ".name", "io.acme.*"]],
      exp,
    }),
    delegate(owner, {
      aud: team.did,
      sub: authority.did,
      cmd: "/macula/pubsub",
      pol: namespacePolicy("io.acme.plant3"),
      exp,
    }),
    delegate(team, { aud: holder, sub: null, cmd: "/macula/pubsub/publish", exp }),
  ];
}

const publishOp: Operation = { kind: "publish", name: "io.acme.plant3.temp", realm: REALM };

Deno.test({
  name:
    "auth: revoking a middle link at one node spreads to all five, invalidates cached decisions, and lasts a restart",
  ...opts,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "macula-auth-" });
    const authority = newSigner(), owner = newSigner(), team = newSigner();
    const network = new MemoryNetwork();
    const durableKey = KeyPair.generate();
    const nodes = await closedMesh(
      network,
      authority,
      5,
      (i) => i === 4 ? { dataDir: dir, keyPair: durableKey, memory: { network, name: "durable" } } : {},
      "star",
    );
    const [pub, ...receivers] = nodes;
    let restarted: Node | undefined;
    try {
      const chain = threeLinks(authority, owner, team, pub.did);
      pub.auth.addChain(chain);
      for (const r of receivers) r.auth.addChain(grant(authority, r, "/macula/pubsub/subscribe"));
      const got = receivers.map((r) => {
        const seen: PubSubMessage[] = [];
        r.subscribe("io.acme.plant3.>", (m) => seen.push(m));
        return seen;
      });
      await Promise.all(nodes.map((n) => n.pubsub.whenAnnounced()));
      await pub.pubsub.ready("io.acme.plant3.temp", { min: 4 });
      await pub.publish("io.acme.plant3.temp", "before");
      await until(() => got.every((g) => g.length === 1), 3000, "every receiver admits the publisher");
      for (const r of receivers) assertEquals(r.auth.check(pub.id, publishOp), true, "cached and synchronous");

      // The revocation is made at the last receiver, signed by the owner (the middle link's issuer).
      const revoker = receivers[3];
      await revoker.pubsub.ready(REVOCATION_TOPIC, { min: 4, realm: REALM });
      const seenAt = new Map<string, number>();
      for (const n of nodes) n.auth.on("revoked", () => seenAt.set(n.did, performance.now()));
      const t0 = performance.now();
      await revoker.auth.revoke(revoke(owner, chain[1].id));
      await until(() => seenAt.size === nodes.length, 3000, "every node has the revocation");
      const spread = Math.max(...seenAt.values()) - t0;
      console.log(`revocation reached all ${nodes.length} nodes in ${spread.toFixed(1)} ms`);

      for (const r of receivers) assertEquals(r.auth.check(pub.id, publishOp), false, "refused at once");
      assertEquals(pub.auth.chains().length, 0, "the holder dropped the revoked chain");
      await pub.publish("io.acme.plant3.temp", "after");
      await sleep(100);
      assert(got.every((g) => g.length === 1), "nobody took the message published after the revocation");

      // Durable: the node with a data dir still knows after a restart.
      await revoker.stop();
      restarted = await memoryNode(network, {
        keyPair: durableKey,
        dataDir: dir,
        realms: [REALM],
        auth: closedAuth(authority),
        memory: { network, name: "durable-2" },
      });
      assert(restarted.auth.isRevoked(chain[1].id, [authority.did, owner.did]));
      assertThrows(() => restarted!.auth.verify(chain, pub.did, REALM), RevokedError);
      assertEquals((restarted.status().auth as { revocations: number }).revocations, 1);
    } finally {
      await stopAll(nodes);
      await restarted?.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "auth: a node that was offline catches up on connect; a revocation by someone not above the link is ignored",
  ...opts,
  async fn() {
    const authority = newSigner(), owner = newSigner(), team = newSigner();
    const network = new MemoryNetwork();
    const nodes = await closedMesh(network, authority, 2);
    const [a, b] = nodes;
    let late: Node | undefined;
    try {
      const chain = threeLinks(authority, owner, team, b.did);
      b.auth.addChain(chain);
      // The team (the middle link's audience, not above it) cannot revoke it.
      await a.auth.revoke(revoke(team, chain[1].id));
      assertEquals(a.auth.isRevoked(chain[1].id, [authority.did, owner.did]), false);
      assertEquals(await a.auth.check(b.id, publishOp), true);
      // The owner can, and a node started afterwards learns it when it connects.
      await a.auth.revoke(revoke(owner, chain[1].id));
      await until(() => b.auth.chains().length === 0, 3000, "b hears of it");
      late = await memoryNode(network, { realms: [REALM], auth: closedAuth(authority) });
      assertEquals(late.auth.isRevoked(chain[1].id, [authority.did, owner.did]), false);
      await late.connect(a.addrs[0]);
      await until(() => late!.auth.isRevoked(chain[1].id, [authority.did, owner.did]), 3000, "caught up");
      assertThrows(() => late!.auth.verify(chain, b.did, REALM), RevokedError);
      // Both revocations (the ignored one too) are stored and exchanged.
      assertEquals((late.status().auth as { revocations: number }).revocations, 2);
    } finally {
      await stopAll(nodes);
      await late?.stop();
    }
  },
});

Deno.test({
  name: "auth: revoking an app-style chain held by a node (grant of the authority itself) refuses its next call",
  ...opts,
  async fn() {
    const authority = newSigner();
    const nodes = await closedMesh(new MemoryNetwork(), authority, 2);
    const [a, b] = nodes;
    try {
      const chain = grant(authority, b, "/macula/rpc/call");
      b.auth.addChain(chain);
      a.advertise("io.acme.plant3.status", () => "up");
      assertEquals(await b.call("io.acme.plant3.status", {}), "up");
      await b.auth.revoke(revoke(authority, chain[0].id));
      await until(() => a.auth.isRevoked(chain[0].id, [authority.did]), 3000, "a hears of it");
      assertEquals(a.auth.check(b.id, { kind: "call", name: "io.acme.plant3.status", realm: REALM }), false);
    } finally {
      await stopAll(nodes);
    }
  },
});

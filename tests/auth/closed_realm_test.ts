/**
 * Closed realms on real in-memory nodes with real signatures: default deny
 * for publish, call, subscribe and content; a namespace-confined publish
 * chain; public-topic subscriptions; expired and stolen chains; open realms
 * as before; refusals visible to callers and in the metrics.
 */
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { joinedNodes, MemoryNetwork, until } from "../helpers/nodes.ts";
import type { Node } from "../../src/api/node.ts";
import { NotAuthorizedError } from "../../src/node/authorize.ts";
import { ContentDeniedError, ContentNotFoundError } from "../../src/content/errors.ts";
import { namespacePolicy } from "../../src/auth/namespace.ts";
import { serveAuth } from "../../src/auth/exchange.ts";
import type { PubSubMessage } from "../../src/pubsub/subscription.ts";
import { closedMesh, grant, newSigner, REALM, sleep, stopAll } from "./helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** Collect what `node` receives on `pattern`. */
function collect(node: Node, pattern: string): PubSubMessage[] {
  const got: PubSubMessage[] = [];
  node.subscribe(pattern, (m) => got.push(m));
  return got;
}

Deno.test({
  name: "auth: an open realm (the default) behaves as before: no chains, everything admitted",
  ...opts,
  async fn() {
    const network = new MemoryNetwork();
    const nodes = await joinedNodes(network, 3, "chain", () => ({ realms: [REALM] }));
    const [a, b, c] = nodes;
    try {
      assertEquals(a.auth.policy(REALM), "open");
      const got = collect(c, "io.acme.>");
      await c.pubsub.whenAnnounced();
      b.advertise("io.acme.status", () => "up");
      await until(async () => (await a.publish("io.acme.plant3.temp", 1)).remote > 0, 3000, "subscriber known");
      await until(() => got.length > 0, 3000, "delivery");
      assertEquals(await a.call("io.acme.status", {}), "up");
      assert(!a.metrics.registry.render().includes("macula_auth_refused_total{"), "nothing refused");
    } finally {
      await stopAll(nodes);
    }
  },
});

Deno.test({
  name:
    "auth: in a closed realm a node without chains is refused publish, call, subscribe and content by every other node",
  ...opts,
  async fn() {
    const authority = newSigner();
    const network = new MemoryNetwork();
    const nodes = await closedMesh(network, authority, 3);
    const [a, b, d] = nodes; // d holds nothing; a and b hold /macula
    try {
      a.auth.addChain(grant(authority, a, "/macula"));
      b.auth.addChain(grant(authority, b, "/macula"));
      const atA = collect(a, "io.acme.>");
      const atB = collect(b, "io.acme.>");
      await Promise.all([a.pubsub.whenAnnounced(), b.pubsub.whenAnnounced()]);
      // Publish: d's messages are dropped at both receivers.
      await until(async () => (await d.publish("io.acme.plant3.temp", "from d")).remote >= 2, 3000, "d sees both");
      // Call: refused with a typed error.
      a.advertise("io.acme.status", () => "up");
      await assertRejects(() => d.call("io.acme.status", {}), NotAuthorizedError);
      assertEquals(await b.call("io.acme.status", {}), "up", "b holds /macula");
      // Content: every provider refuses, the fetcher gets a typed error.
      const mcid = await a.content.publish(new Uint8Array(20_000).fill(7));
      const denied = await assertRejects(() => d.content.download(mcid), ContentDeniedError);
      assert(denied instanceof ContentNotFoundError && (denied as ContentDeniedError).code === "E_CONTENT_DENIED");
      // Subscribe: d subscribes, but publishers do not send to it.
      const atD = collect(d, "io.acme.>");
      await d.pubsub.whenAnnounced();
      await until(() => b.pubsub.ready("io.acme.plant3.temp", { min: 2 }).then(() => true), 3000, "b knows a and d");
      await b.publish("io.acme.plant3.temp", "from b");
      await until(() => atA.some((m) => m.payload === "from b"), 3000, "a gets b's message");
      await sleep(100);
      assertEquals(atD.length, 0, "d received nothing");
      assert(!atA.some((m) => m.payload === "from d") && !atB.some((m) => m.payload === "from d"));
      const metrics = a.metrics.registry.render();
      assert(metrics.includes(`macula_auth_refused_total{kind="publish",realm="${REALM}"}`), metrics);
      assert(metrics.includes(`macula_auth_refused_total{kind="call",realm="${REALM}"}`));
      assert(metrics.includes(`macula_auth_refused_total{kind="content",realm="${REALM}"}`));
      assert(metrics.includes(`macula_pubsub_dropped_total{reason="unauthorized"}`));
      assert(b.metrics.registry.render().includes(`macula_auth_refused_total{kind="subscribe",realm="${REALM}"}`));
      assert(metrics.includes(`macula_auth_proof_pulls_total{outcome="none"}`));
    } finally {
      await stopAll(nodes);
    }
  },
});

Deno.test({
  name:
    "auth: a publish chain for io.acme.plant3 publishes there only, may not call, and may subscribe to public topics",
  ...opts,
  async fn() {
    const authority = newSigner();
    const nodes = await closedMesh(new MemoryNetwork(), authority, 3);
    const [a, p, d] = nodes; // a: /macula; p: publish under io.acme.plant3; d: nothing
    try {
      a.auth.addChain(grant(authority, a, "/macula"));
      p.auth.addChain(grant(authority, p, "/macula/pubsub/publish", namespacePolicy("io.acme.plant3")));
      const atA = collect(a, "io.acme.>");
      await a.pubsub.whenAnnounced();
      await until(async () => (await p.publish("io.acme.plant3.temp", "ok")).remote > 0, 3000, "a known");
      await p.publish("io.acme.plant4.x", "not here");
      await p.publish("io.acme.plant3x.y", "nor here");
      await until(() => atA.some((m) => m.payload === "ok"), 3000, "allowed message");
      await sleep(100);
      assertEquals(atA.map((m) => m.topic).filter((t) => t !== "io.acme.plant3.temp"), []);
      a.advertise("io.acme.plant3.reset", () => "done");
      await assertRejects(() => p.call("io.acme.plant3.reset", {}), NotAuthorizedError);
      // Public topics: any member (p) may subscribe; a non-member (d) may not.
      const atP = collect(p, "io.acme.plant3.public.>");
      const atD = collect(d, "io.acme.plant3.public.>");
      await Promise.all([p.pubsub.whenAnnounced(), d.pubsub.whenAnnounced()]);
      await a.pubsub.ready("io.acme.plant3.public.temp", { min: 2 });
      await a.publish("io.acme.plant3.public.temp", 21.5);
      await until(() => atP.length === 1, 3000, "member gets the public message");
      await sleep(100);
      assertEquals(atD.length, 0);
      // And p cannot subscribe to a private topic.
      const atP2 = collect(p, "io.acme.plant3.private");
      await p.pubsub.whenAnnounced();
      await a.pubsub.ready("io.acme.plant3.private", { min: 1 });
      await a.publish("io.acme.plant3.private", "secret");
      await sleep(150);
      assertEquals(atP2.length, 0);
    } finally {
      await stopAll(nodes);
    }
  },
});

Deno.test({
  name: "auth: an expired chain and a stolen chain (last audience another node) are refused",
  ...opts,
  async fn() {
    const authority = newSigner();
    const now = Math.floor(Date.now() / 1000);
    const nodes = await closedMesh(new MemoryNetwork(), authority, 4, (i) =>
      // Node 1 believes it is two hours ago, so it accepts (and presents) a chain that expired an hour ago.
      i === 1 ? { auth: { clock: () => Date.now() - 2 * 3600_000 } } : i === 3
        ? { auth: false } // the thief: serves someone else's chain itself
        : {});
    const [a, old, owner, thief] = nodes;
    try {
      a.auth.addChain(grant(authority, a, "/macula"));
      old.auth.addChain(grant(authority, old, "/macula", [], now - 3600));
      const ownersChain = grant(authority, owner, "/macula");
      owner.auth.addChain(ownersChain);
      serveAuth(thief, {
        ownChains: () => [ownersChain.map((d) => d.bytes)],
        chainsOf: () => [],
        revocations: () => [],
      });
      a.advertise("io.acme.status", () => "up");
      await assertRejects(() => old.call("io.acme.status", {}), NotAuthorizedError);
      await assertRejects(() => thief.call("io.acme.status", {}), NotAuthorizedError);
      assertEquals(await owner.call("io.acme.status", {}), "up", "the rightful holder is admitted");
      assertEquals(a.auth.check(thief.id, { kind: "call", name: "io.acme.status", realm: REALM }), false);
    } finally {
      await stopAll(nodes);
    }
  },
});

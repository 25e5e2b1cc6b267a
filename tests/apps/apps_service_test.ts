/**
 * The gatekeeper service in an in-memory mesh: admission through
 * `node.apps.admit`, wiring of topics, procedures and content, per-operation
 * refusals (counted), health withdrawal and recovery.
 */
import { assert, assertEquals, assertRejects, assertThrows } from "../helpers/assert.ts";
import { joinedNodes, MemoryNetwork, memoryNode, until } from "../helpers/nodes.ts";
import type { Node, NodeOptions } from "../../src/api/node.ts";
import { AdmissionError, OperationRefusedError } from "../../src/apps/errors.ts";
import type { AppCapability } from "../../src/auth/commands.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { encodeContainer, revoke, signerFromKeyPair } from "../../src/ucan/mod.ts";
import { MaculaError } from "../../src/util/errors.ts";
import { didOf, namespaceChain, testApp } from "./helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const REALM = "io.acme";

function nodeOptions(authority: KeyPair, extra: Partial<NodeOptions> = {}): Partial<NodeOptions> {
  return {
    realms: [REALM],
    auth: { realms: { [REALM]: { policy: "open", authorities: [didOf(authority)] } } },
    ...extra,
  };
}

/** The proof for an app key in namespace `ns` (owner of io.acme delegates `ns`). */
function proofFor(authority: KeyPair, appKey: KeyPair, ns = "io.acme.plant3"): string {
  return encodeContainer(namespaceChain(authority, KeyPair.generate(), appKey, "io.acme", ns).map((d) => d.bytes));
}

function metric(node: Node, name: string, labels: string): number {
  const line = node.metrics.registry.render().split("\n").find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(" ").pop()) : 0;
}

const stopAll = (nodes: Node[]) => Promise.all(nodes.map((n) => n.stop()));

Deno.test({
  name: "apps: a working app receives events on its topics, serves its procedures and exchanges content",
  ...opts,
  async fn() {
    const authority = KeyPair.generate();
    const nodes = await joinedNodes(new MemoryNetwork(), 3, "chain", () => nodeOptions(authority));
    const [a, b, c] = nodes;
    try {
      const all: AppCapability[] = ["publish", "subscribe", "call", "register", "provide_content", "consume_content"];
      const weather = testApp("io.acme.plant3.weather", all, {
        topics: ["io.acme.plant3.weather.>"],
        procedures: ["io.acme.plant3.weather.get"],
        contentTypes: ["text/plain", "text/csv"],
      });
      const displayKey = KeyPair.generate();
      const display = testApp("io.acme.plant3.display", ["subscribe", "call", "consume_content"], {
        topics: ["io.acme.plant3.weather.updates"],
        procedures: ["io.acme.plant3.weather.get"],
        contentTypes: ["text/plain"],
      });
      const weatherKey = KeyPair.generate();
      const w = await a.apps.admit(weather, { proof: proofFor(authority, weatherKey), key: weatherKey });
      const d = await c.apps.admit(display, { proof: proofFor(authority, displayKey), key: displayKey });
      assertEquals(w.manifest.namespace, "io.acme.plant3");
      assertEquals(w.manifest.did, didOf(weatherKey));
      // the node presents the app's chain, extended to itself
      assertEquals(w.chain.audience, a.did);
      assertEquals(w.chain.links.length, 3);
      assertEquals(w.chain.links[2].iss, didOf(weatherKey));
      assert(a.auth.chains().some((ch) => ch.cids.at(-1) === w.chain.cids.at(-1)), "held by the capability service");

      // events: the weather app publishes, the display app on another node gets it
      await Promise.all(nodes.map((n) => n.pubsub.whenAnnounced()));
      await until(
        async () => (await w.publish("io.acme.plant3.weather.updates", new TextEncoder().encode("sunny"))).remote > 0,
        5000,
        "a subscriber known",
      );
      await until(() => display.recorded.events.length > 0, 3000, "event delivered");
      assertEquals(display.recorded.events[0].topic, "io.acme.plant3.weather.updates");
      assertEquals(new TextDecoder().decode(display.recorded.events[0].payload), "sunny");
      assertEquals(display.recorded.events[0].publisher, a.did);
      // a non-byte payload from a plain node arrives CBOR-encoded
      await b.publish("io.acme.plant3.weather.updates", { c: 21 });
      await until(() => display.recorded.events.some((e) => e.publisher === b.did), 3000, "plain node's event");

      // RPC: the display app calls the weather app's procedure on another node
      const answer = await d.call("io.acme.plant3.weather.get", { city: "Ghent" }, { timeout: 5000 });
      assertEquals(answer, { ok: "io.acme.plant3.weather.get", args: { city: "Ghent" } });
      assertEquals(weather.recorded.calls[0].caller, c.did);
      assertEquals(await b.call("io.acme.plant3.weather.get", 1, { realm: REALM }), {
        ok: "io.acme.plant3.weather.get",
        args: 1,
      });

      // content: the weather app provides a report, the display app fetches it
      const mcid = await w.provide("text/plain", "report-1");
      const bytes = await d.fetchContent(mcid, "text/plain");
      assertEquals(new TextDecoder().decode(bytes), "content report-1");
      assertEquals(display.recorded.received.map((r) => [r.mcid, r.contentType]), [[mcid, "text/plain"]]);
      const direct = await w.publishContent("text/plain", new TextEncoder().encode("raw"));
      assertEquals(new TextDecoder().decode(await d.fetchContent(direct, "text/plain")), "raw");
      const undeclared = await assertRejects(() => w.provide("image/png", "a"), OperationRefusedError);
      assertEquals((undeclared as OperationRefusedError).reason, "resource_not_declared");
      await assertRejects(() => w.provide("text/csv", "missing"), MaculaError, "has no text/csv content");

      // status and metrics
      const status = a.apps.list();
      assertEquals(status.map((s) => [s.identity, s.health.state, s.advertised]), [[
        "io.acme.plant3.weather",
        "healthy",
        ["io.acme.plant3.weather.get"],
      ]]);
      assert(status[0].operations.allowed >= 4);
      assertEquals(metric(a, "macula_app_admissions_total", 'outcome="admitted"'), 1);
      assertEquals(metric(a, "macula_app_health", 'app="io.acme.plant3.weather"'), 1);
      assert(
        metric(a, "macula_app_operations_total", 'app="io.acme.plant3.weather",op="publish",outcome="allowed"') >= 1,
      );
      assert(JSON.stringify(a.status()).includes("io.acme.plant3.weather"));

      // withdraw: the procedure and the chain go away
      await w.withdraw();
      assertEquals(a.apps.list(), []);
      assert(!a.auth.chains().some((ch) => ch.cids.at(-1) === w.chain.cids.at(-1)), "chain no longer held");
      await assertRejects(() => w.publish("io.acme.plant3.weather.updates", new Uint8Array(1)), OperationRefusedError);
      assertEquals(a.apps.get("io.acme.plant3.weather"), undefined);
    } finally {
      await stopAll(nodes);
    }
  },
});

Deno.test({
  name: "apps: an app with only subscribe cannot publish; undeclared resources are refused; both counted",
  ...opts,
  async fn() {
    const authority = KeyPair.generate();
    const node = await memoryNode(new MemoryNetwork(), nodeOptions(authority));
    try {
      const key = KeyPair.generate();
      const app = testApp("io.acme.plant3.listener", ["subscribe"], { topics: ["io.acme.plant3.temp.*"] });
      const h = await node.apps.admit(app, { proof: proofFor(authority, key), key });
      const e = await assertRejects(() => h.publish("io.acme.plant3.temp.kitchen", 1), OperationRefusedError);
      assertEquals((e as OperationRefusedError).reason, "capability_not_declared");
      const r = assertThrows(() => h.subscribe("io.acme.plant3.other"), OperationRefusedError);
      assertEquals((r as OperationRefusedError).reason, "resource_not_declared");
      await assertRejects(() => h.call("io.acme.plant3.x", 1), OperationRefusedError, "capability_not_declared");
      await assertRejects(() => h.fetchContent("m", "text/plain"), OperationRefusedError);
      h.subscribe("io.acme.plant3.temp.kitchen"); // within the declared pattern
      const label = (op: string, outcome: string) => `app="io.acme.plant3.listener",op="${op}",outcome="${outcome}"`;
      assertEquals(metric(node, "macula_app_operations_total", label("publish", "refused")), 1);
      assertEquals(metric(node, "macula_app_operations_total", label("subscribe", "refused")), 1);
      assertEquals(metric(node, "macula_app_operations_total", label("subscribe", "allowed")), 2);
      assertEquals(node.apps.list()[0].operations.refused, {
        capability_not_declared: 3,
        resource_not_declared: 1,
      });
    } finally {
      await node.stop();
    }
  },
});

Deno.test({
  name: "apps: admission errors through the service (each step) are counted by outcome",
  ...opts,
  async fn() {
    const authority = KeyPair.generate();
    const node = await memoryNode(new MemoryNetwork(), nodeOptions(authority, { apps: { healthTimeout: 100 } }));
    try {
      const key = KeyPair.generate();
      const proof = proofFor(authority, key);
      const admit = async (app: unknown, p = proof, k = key) => {
        const e = await assertRejects(
          () => node.apps.admit(app as never, { proof: p, key: k }),
          AdmissionError,
        );
        return e as AdmissionError;
      };
      const ok = () => testApp("io.acme.plant3.app", ["publish"], { topics: ["io.acme.plant3.t"] });
      assertEquals((await admit({ ...ok(), meshApi: undefined })).step, "missing_callbacks");
      assertEquals((await admit(testApp("io.acme", []))).step, "invalid_identity");
      assertEquals(
        (await admit({
          ...ok(),
          meshIdentity: () => {
            throw new Error("boom");
          },
        })).step,
        "invalid_identity",
      );
      assertEquals((await admit(ok(), proofFor(authority, key, "io.acme.other"))).step, "not_namespace_owner");
      assertEquals((await admit(ok(), proofFor(authority, KeyPair.generate()))).step, "invalid_proof");
      assertEquals((await admit(ok(), proofFor(KeyPair.generate(), key))).step, "invalid_proof");
      assertEquals(
        (await admit(testApp("io.acme.plant3.app", ["publish", "fly" as AppCapability]))).step,
        "invalid_capability",
      );
      assertEquals(
        (await admit(testApp("io.acme.plant3.app", [], { topics: ["io.acme.plant4.t"] }))).step,
        "invalid_api_entries",
      );
      for (const answer of [{ error: "database down" }, "throw", "hang"] as const) {
        const app = ok();
        app.setHealth(answer);
        const e = await admit(app);
        assertEquals(e.step, "unhealthy", JSON.stringify(answer));
      }
      await node.apps.admit(ok(), { proof, key });
      assertEquals((await admit(ok())).step, "already_admitted");
      assertEquals(metric(node, "macula_app_admissions_total", 'outcome="admitted"'), 1);
      assertEquals(metric(node, "macula_app_admissions_total", 'outcome="unhealthy"'), 3);
      assertEquals(metric(node, "macula_app_admissions_total", 'outcome="invalid_proof"'), 2);
      // a procedure already advertised on the node cannot be registered by an app
      node.advertise("io.acme.plant3.taken", () => 1, { realm: REALM });
      const k2 = KeyPair.generate();
      const taken = testApp("io.acme.plant3.second", ["register"], { procedures: ["io.acme.plant3.taken"] });
      const e = await admit(taken, proofFor(authority, k2), k2);
      assertEquals(e.step, "invalid_api_entries");
      assertEquals(node.apps.list().length, 1);
    } finally {
      await node.stop();
    }
  },
});

Deno.test({
  name: "apps: an unhealthy app is withdrawn, refuses operations, and is re-advertised on recovery",
  ...opts,
  async fn() {
    const authority = KeyPair.generate();
    const nodes = await joinedNodes(
      new MemoryNetwork(),
      2,
      "chain",
      () => nodeOptions(authority, { apps: { healthInterval: 50, healthTimeout: 100 } }),
    );
    const [a, b] = nodes;
    try {
      const key = KeyPair.generate();
      const app = testApp("io.acme.plant3.svc", ["register", "publish"], {
        procedures: ["io.acme.plant3.svc.ping"],
        topics: ["io.acme.plant3.svc.events"],
      });
      const h = await a.apps.admit(app, { proof: proofFor(authority, key), key });
      const call = () => b.call("io.acme.plant3.svc.ping", 1, { realm: REALM, timeout: 1500 });
      assertEquals(await call(), { ok: "io.acme.plant3.svc.ping", args: 1 });
      app.setHealth({ error: "disk full" });
      await until(() => h.health().state === "unhealthy", 2000, "unhealthy");
      assertEquals(h.health().lastError, "disk full");
      assertEquals(a.apps.list()[0].advertised, []);
      assert(!JSON.stringify(a.rpc.status()).includes("svc.ping"), "advertisement withdrawn");
      assertEquals(metric(a, "macula_app_health", 'app="io.acme.plant3.svc"'), 0);
      await assertRejects(call);
      const e = await assertRejects(() => h.publish("io.acme.plant3.svc.events", 1), OperationRefusedError);
      assertEquals((e as OperationRefusedError).reason, "unhealthy");
      app.setHealth(true);
      await until(() => h.health().state === "healthy", 2000, "recovered");
      assert(JSON.stringify(a.rpc.status()).includes("svc.ping"), "re-advertised");
      await until(
        async () => {
          try {
            return (await call() as { ok: string }).ok === "io.acme.plant3.svc.ping";
          } catch {
            return false;
          }
        },
        5000,
        "callable again",
      );
      await h.publish("io.acme.plant3.svc.events", 2);
      assert(h.health().failures >= 1 && h.health().checks > 2);
    } finally {
      await stopAll(nodes);
    }
  },
});

Deno.test({
  name: "apps: revoking a link of an app's proof stops the app (advertisements gone, operations not_covered)",
  ...opts,
  async fn() {
    const authority = KeyPair.generate();
    const node = await memoryNode(new MemoryNetwork(), nodeOptions(authority));
    try {
      const owner = KeyPair.generate();
      const key = KeyPair.generate();
      const chain = namespaceChain(authority, owner, key, "io.acme.plant3");
      const app = testApp("io.acme.plant3.svc", ["register", "publish"], {
        procedures: ["io.acme.plant3.svc.ping"],
        topics: ["io.acme.plant3.svc.events"],
      });
      const h = await node.apps.admit(app, { proof: chain, key });
      await h.publish("io.acme.plant3.svc.events", 1);
      // someone below the link cannot revoke it: the app itself revoking its owner's delegation is ignored
      await node.auth.revoke(revoke(signerFromKeyPair(key), chain[1].id)).catch(() => {});
      await h.publish("io.acme.plant3.svc.events", 2);
      // the owner revokes its delegation to the app (the middle link of the held chain)
      await node.auth.revoke(revoke(signerFromKeyPair(owner), chain[1].id));
      const e = await assertRejects(() => h.publish("io.acme.plant3.svc.events", 3), OperationRefusedError);
      assertEquals((e as OperationRefusedError).reason, "not_covered");
      assert(e.message.includes("revoked"), e.message);
      const [status] = node.apps.list();
      assertEquals(status.advertised, []);
      assert(status.revoked?.includes(chain[1].id));
      assertEquals(metric(node, "macula_app_health", 'app="io.acme.plant3.svc"'), 0);
      assert(!node.auth.chains().some((c) => c.cids.includes(chain[1].id)), "no longer presented");
    } finally {
      await node.stop();
    }
  },
});

Deno.test({
  name: "apps: once its proof expired (beyond the skew), an app's operations are not_covered",
  ...opts,
  async fn() {
    const authority = KeyPair.generate();
    let now = Date.now();
    const node = await memoryNode(
      new MemoryNetwork(),
      nodeOptions(authority, { apps: { clock: () => now, skew: 60 } }),
    );
    try {
      const key = KeyPair.generate();
      const exp = Math.floor(now / 1000) + 120;
      const proof = namespaceChain(authority, KeyPair.generate(), key, "io.acme.plant3", "io.acme.plant3", { exp });
      const h = await node.apps.admit(testApp("io.acme.plant3.app", ["publish"], { topics: ["io.acme.plant3.t"] }), {
        proof,
        key,
      });
      assertEquals(h.manifest.expires, exp);
      assertEquals(h.chain.expires, exp, "the link to the node expires with the proof");
      now = (exp + 60) * 1000; // at the edge of the skew: still covered
      await h.publish("io.acme.plant3.t", 1);
      now = (exp + 61) * 1000;
      const e = await assertRejects(() => h.publish("io.acme.plant3.t", 2), OperationRefusedError, "expired");
      assertEquals((e as OperationRefusedError).reason, "not_covered");
    } finally {
      await node.stop();
    }
  },
});

Deno.test({
  name: "apps: with no authority configured the node's own key is the root; apps: false, auth: false, content: false",
  ...opts,
  async fn() {
    const network = new MemoryNetwork();
    const nodeKey = KeyPair.generate();
    const plain = await memoryNode(network, { keyPair: nodeKey, content: false });
    const off = await memoryNode(network, { apps: false });
    const noAuth = await memoryNode(network, { auth: false });
    try {
      const key = KeyPair.generate();
      const own = namespaceChain(nodeKey, KeyPair.generate(), key, "io.acme.plant3");
      const app = () => testApp("io.acme.plant3.app", ["publish"], { topics: ["io.acme.plant3.t"] });
      const h = await plain.apps.admit(app(), { proof: own, key });
      assertEquals(h.chain.subject, plain.did);
      await h.withdraw();
      const foreign = namespaceChain(KeyPair.generate(), KeyPair.generate(), key, "io.acme.plant3");
      await assertRejects(() => plain.apps.admit(app(), { proof: foreign, key }), AdmissionError, "invalid_proof");
      // without the content service, content capabilities cannot be served
      const reader = testApp("io.acme.plant3.reader", ["consume_content"], { contentTypes: ["text/plain"] });
      const e = await assertRejects(() => plain.apps.admit(reader, { proof: own, key }), AdmissionError);
      assertEquals((e as AdmissionError).details, { unavailable: ["consume_content"] });
      assertThrows(() => off.apps, Error, "apps: false");
      assertThrows(() => noAuth.apps, Error, "auth: false");
    } finally {
      await Promise.all([plain, off, noAuth].map((n) => n.stop()));
    }
  },
});

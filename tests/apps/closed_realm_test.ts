/**
 * Apps in a closed realm (in-memory mesh): an admitted app's operations
 * reach other nodes and are admitted there through the chain its node
 * presents (the app's proof extended to the node); a node with no app and
 * no chain is refused; a subscribe-only app is refused at its own node.
 */
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { joinedNodes, MemoryNetwork, until } from "../helpers/nodes.ts";
import type { Node } from "../../src/api/node.ts";
import { OperationRefusedError } from "../../src/apps/errors.ts";
import { ContentDeniedError } from "../../src/content/errors.ts";
import { NotAuthorizedError } from "../../src/node/authorize.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { encodeContainer } from "../../src/ucan/mod.ts";
import { didOf, namespaceChain, testApp } from "./helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const REALM = "io.acme";

function metric(node: Node, name: string, labels: string): number {
  const line = node.metrics.registry.render().split("\n").find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(" ").pop()) : 0;
}

Deno.test({
  name: "apps in a closed realm: operations are admitted by remote nodes through the presented chain",
  ...opts,
  async fn() {
    const authority = KeyPair.generate();
    const nodes = await joinedNodes(new MemoryNetwork(), 3, "chain", () => ({
      realms: [REALM],
      auth: { realms: { [REALM]: { policy: "closed", authorities: [didOf(authority)] } } },
    }));
    const [a, b, c] = nodes;
    const proof = (key: KeyPair) =>
      encodeContainer(namespaceChain(authority, KeyPair.generate(), key, "io.acme.plant3").map((d) => d.bytes));
    try {
      const weatherKey = KeyPair.generate();
      const weather = testApp("io.acme.plant3.weather", ["publish", "register"], {
        topics: ["io.acme.plant3.weather.>"],
        procedures: ["io.acme.plant3.weather.get"],
      });
      const w = await a.apps.admit(weather, { proof: proof(weatherKey), key: weatherKey });
      const displayKey = KeyPair.generate();
      const display = testApp("io.acme.plant3.display", ["subscribe", "call"], {
        topics: ["io.acme.plant3.weather.updates"],
        procedures: ["io.acme.plant3.weather.get"],
      });
      const d = await c.apps.admit(display, { proof: proof(displayKey), key: displayKey });
      await Promise.all(nodes.map((n) => n.pubsub.whenAnnounced()));

      // the weather app's event reaches the display app: A admits C's subscription, C admits A's message
      await until(
        async () => (await w.publish("io.acme.plant3.weather.updates", new TextEncoder().encode("sunny"))).remote > 0,
        5000,
        "the subscriber admitted at the publisher",
      );
      await until(() => display.recorded.events.length > 0, 3000, "event admitted at the receiver");
      assertEquals(display.recorded.events[0].publisher, a.did);

      // the display app's call is admitted at A through C's chain
      const answer = await d.call("io.acme.plant3.weather.get", { city: "Ghent" }, { timeout: 5000 });
      assertEquals(answer, { ok: "io.acme.plant3.weather.get", args: { city: "Ghent" } });
      assertEquals(weather.recorded.calls.map((x) => x.caller), [c.did]);

      // B holds no chain: its call is refused by A, its message dropped by C
      await assertRejects(
        () => b.call("io.acme.plant3.weather.get", 1, { realm: REALM, timeout: 3000 }),
        NotAuthorizedError,
      );
      const droppedBefore = metric(c, "macula_pubsub_dropped_total", 'reason="unauthorized"');
      await b.publish("io.acme.plant3.weather.updates", "forged", { realm: REALM });
      await until(
        () => metric(c, "macula_pubsub_dropped_total", 'reason="unauthorized"') > droppedBefore,
        3000,
        "B's message refused at C",
      );
      assert(display.recorded.events.every((e) => e.publisher !== b.did));

      // the chains are confined to the namespace: outside it, A does not even send to C's raw subscription
      c.subscribe("io.acme.plant4.x", () => {}, { realm: REALM });
      await c.pubsub.whenAnnounced();
      const refusedAtA = metric(a, "macula_pubsub_dropped_total", 'reason="unauthorized"');
      await until(
        async () => {
          await a.publish("io.acme.plant4.x", 1, { realm: REALM });
          return metric(a, "macula_pubsub_dropped_total", 'reason="unauthorized"') > refusedAtA;
        },
        3000,
        "C's subscription outside its namespace refused at A",
      );

      // an app that declared only subscribe is refused at its own node when it publishes
      const listenerKey = KeyPair.generate();
      const listener = await b.apps.admit(
        testApp("io.acme.plant3.listener", ["subscribe"], { topics: ["io.acme.plant3.weather.updates"] }),
        { proof: proof(listenerKey), key: listenerKey },
      );
      const e = await assertRejects(() => listener.publish("io.acme.plant3.weather.updates", 1), OperationRefusedError);
      assertEquals((e as OperationRefusedError).reason, "capability_not_declared");
      assertEquals(
        metric(b, "macula_app_operations_total", 'app="io.acme.plant3.listener",op="publish",outcome="refused"'),
        1,
      );

      // content is addressed by hash; an app's content is published under the app's identity, so a chain
      // confined to the namespace covers fetching it from A; B, with no chain, is denied the same MCID
      const sharerKey = KeyPair.generate();
      const sharer = await a.apps.admit(
        testApp("io.acme.plant3.sharer", ["provide_content"], { contentTypes: ["text/plain"] }),
        { proof: proof(sharerKey), key: sharerKey },
      );
      const readerKey = KeyPair.generate();
      const reader = await c.apps.admit(
        testApp("io.acme.plant3.reader", ["consume_content"], { contentTypes: ["text/plain"] }),
        { proof: proof(readerKey), key: readerKey },
      );
      const mcid = await sharer.publishContent("text/plain", new TextEncoder().encode("report"));
      assertEquals(a.content.names(mcid), ["io.acme.plant3.sharer"]);
      const fetched = await reader.fetchContent(mcid, "text/plain", { signal: AbortSignal.timeout(5000) });
      assertEquals(new TextDecoder().decode(fetched), "report");
      await assertRejects(
        () => b.content.download(mcid, { realm: REALM, signal: AbortSignal.timeout(3000) }),
        ContentDeniedError,
        "not authorized",
      );
      // content published without a name is decided on its MCID alone, which no namespace chain covers
      const unnamed = await a.content.publish(new TextEncoder().encode("raw"), { realm: REALM });
      await assertRejects(
        () => reader.fetchContent(unnamed.toString(), "text/plain", { signal: AbortSignal.timeout(3000) }),
        ContentDeniedError,
      );

      // a withdrawn app's chain is no longer presented: A's new decisions on it refuse
      const op = { kind: "publish", name: "io.acme.plant3.weather.updates", realm: REALM } as const;
      await w.withdraw();
      assert(a.auth.holds(op), "the sharer app's chain (same namespace) still covers it");
      await sharer.withdraw();
      assert(!a.auth.holds({ kind: "publish", name: "io.acme.plant3.weather.updates", realm: REALM }));
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
    }
  },
});

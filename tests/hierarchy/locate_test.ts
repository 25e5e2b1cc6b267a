/**
 * Content and pub/sub through the hierarchy on a small in-memory network
 * (2 regions × 2 cities × 6 nodes): content is found across levels through
 * bridges, a scoped fetch does not escalate past its scope (typed error),
 * a scoped publish reaches the subscribers within the scope and no others.
 */
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { rng } from "../helpers/mutate.ts";
import { until } from "../helpers/nodes.ts";
import { ContentNotFoundError } from "../../src/content/errors.ts";
import { LocalityError } from "../../src/hierarchy/locality.ts";
import type { PubSubMessage } from "../../src/pubsub/subscription.ts";
import { buildHierarchy } from "./network.ts";

const SHAPE = { size: 24, regions: 2, citiesPerRegion: 2, cityBridges: 2, regionBridges: 1 };

function bytes(n: number, seed: number): Uint8Array {
  const r = rng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
}

async function drain(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

Deno.test({
  name: "hierarchy lookups: content across levels and within a scope; scoped publish reaches only the scope",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const all = await buildHierarchy(SHAPE, rng(11), { content: {} });
    const plain = (region: number, city: number) =>
      all.filter((h) => h.region === region && h.city === city && !h.bridge);
    try {
      await t.step("content published in one city is fetched from the other region through the bridges", async () => {
        const [publisher, sameCity] = plain(0, 0);
        const [far] = plain(1, 1);
        const data = bytes(200_000, 1);
        const mcid = await publisher.node.content.publish(data);
        // The announcement went up the levels: found nearest first.
        await until(
          async () => (await far.node.hierarchy.findProviders("content", mcid.toString(), { fresh: true })).level === 0,
          10_000,
          "the announcement to reach the top level",
        );
        const near = await sameCity.node.hierarchy.findProviders("content", mcid.toString());
        assertEquals(near.level, 2);
        assertEquals(near.records[0].provider.id.hex, publisher.node.id.hex);
        // A scoped fetch asks the hierarchy alone.
        assertEquals(await drain(far.node.content.fetch(mcid, { scope: "global" })), data);
        assert(await far.node.content.has(mcid));
      });

      await t.step("a fetch scoped below where the content is fails with E_CONTENT_NOT_FOUND", async () => {
        const [publisher] = plain(0, 1);
        const [other] = plain(1, 0);
        const mcid = await publisher.node.content.publish(bytes(5_000, 2));
        await until(
          async () =>
            (await other.node.hierarchy.findProviders("content", mcid.toString(), { fresh: true })).level === 0,
          10_000,
          "the announcement to reach the top level",
        );
        for (const scope of ["r1", "c0", "local", 1]) {
          const e = await assertRejects(() => other.node.content.download(mcid, { scope }), ContentNotFoundError);
          assertEquals((e as ContentNotFoundError).code, "E_CONTENT_NOT_FOUND");
        }
        // The same fetch scoped wide enough succeeds.
        assertEquals((await other.node.content.download(mcid, { scope: 0 })).mcid.toString(), mcid.toString());
      });

      await t.step("content published with a scope is found within it only", async () => {
        const [publisher] = plain(0, 1);
        const [inRegion] = plain(0, 0);
        const [outside] = plain(1, 1);
        const data = bytes(3_000, 3);
        const mcid = await publisher.node.content.publish(data, { scope: "r0" });
        await until(
          async () =>
            (await inRegion.node.hierarchy.findProviders("content", mcid.toString(), { scope: "r0", fresh: true }))
              .level === 1,
          10_000,
          "the announcement to reach the region",
        );
        assertEquals(await drain(inRegion.node.content.fetch(mcid, { scope: "r0" })), data);
        await assertRejects(() => outside.node.content.download(mcid, { scope: "global" }), ContentNotFoundError);
      });

      await t.step("a scoped publish reaches the subscribers within its scope and no others", async () => {
        const [publisher, cityMate] = plain(0, 0);
        const [regionMate] = plain(0, 1);
        const [farAway] = plain(1, 0);
        const subscribers = [cityMate, regionMate, farAway];
        const got = subscribers.map(() => [] as PubSubMessage[]);
        subscribers.forEach((s, i) => s.node.subscribe("alerts.>", (m) => void got[i].push(m)));
        await Promise.all(subscribers.map((s) => s.node.pubsub.whenAnnounced()));
        // Wait until every subscriber is known at the top level.
        await until(
          async () => (await publisher.node.hierarchy.findWithin("sub", "alerts", { fresh: true })).records.length >= 3,
          10_000,
          "the subscriptions to reach the top level",
        );
        const send = async (n: number, scope?: string | number) => {
          const r = await publisher.node.publish("alerts.fire", n, { scope });
          await publisher.node.pubsub.flush();
          return r.remote;
        };
        const seen = (i: number) => got[i].map((m) => m.payload);
        assertEquals(await send(1, "local"), 1);
        assertEquals(await send(2, "r0"), 2);
        assertEquals(await send(3, "global"), 3);
        assertEquals(await send(4), 3); // no scope: the flat directory, as before
        await until(() => got[0].length === 4 && got[1].length === 3 && got[2].length === 2, 10_000, "deliveries");
        // A little longer: nothing more arrives.
        await new Promise((r) => setTimeout(r, 200));
        assertEquals(seen(0), [1, 2, 3, 4]);
        assertEquals(seen(1), [2, 3, 4]);
        assertEquals(seen(2), [3, 4]);
        await assertRejects(() => publisher.node.publish("alerts.fire", 5, { scope: "nowhere" }), LocalityError);
      });
    } finally {
      await Promise.all(all.map((h) => h.node.stop()));
    }
  },
});

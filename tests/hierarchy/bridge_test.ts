/**
 * Bridges on a small in-memory hierarchy (2 regions × 2 cities × 6 nodes):
 * values escalate like providers, scopes bound announcements, bridges refuse
 * requests they must not serve with typed errors, RPC calls take a scope, and a dead bridge is
 * replaced by the next one.
 */
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { rng } from "../helpers/mutate.ts";
import { RemoteError, RequestChannel } from "../../src/node/request-channel.ts";
import { HIER_PROTOCOL, validateHierReply } from "../../src/hierarchy/messages.ts";
import { createProviderRecord, encodeProviderRecord } from "../../src/dht/records.ts";
import { dhtId, realmKey, sortByDistance } from "../../src/dht/keys.ts";
import { signerOf } from "../../src/identity/domain-signature.ts";
import { buildHierarchy, type HierNode } from "./network.ts";
import { until } from "../helpers/nodes.ts";
import { NoProviderError } from "../../src/rpc/rpc.ts";

const SHAPE = { size: 24, regions: 2, citiesPerRegion: 2, cityBridges: 2, regionBridges: 1 };

Deno.test({
  name: "hierarchy bridges: values, scoped announcements, refusals, RPC with a scope, a dead bridge replaced",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const all = await buildHierarchy(SHAPE, rng(5));
    const at = (region: number, city: number, bridge: (b: number) => boolean = (b) => b === 0) =>
      all.filter((h) => h.region === region && h.city === city && bridge(h.bridge));
    try {
      await t.step("a value put in one city is read from the other region (level 0), then from the cache", async () => {
        const [writer] = at(0, 0);
        const [reader] = at(1, 1);
        assertEquals(await writer.node.hierarchy.putValue("config", new Uint8Array([1, 2, 3])), 0);
        const got = await reader.node.hierarchy.getValue(writer.node.id, "config");
        assertEquals(got?.value, new Uint8Array([1, 2, 3]));
        assertEquals(got?.level, 0);
        assertEquals((await reader.node.hierarchy.getValue(writer.node.id, "config"))?.cached, true);
        // A newer value replaces it (read fresh).
        await writer.node.hierarchy.putValue("config", new Uint8Array([9]));
        const fresh = await reader.node.hierarchy.getValue(writer.node.id, "config", { fresh: true });
        assertEquals(fresh?.value, new Uint8Array([9]));
        assertEquals(await reader.node.hierarchy.getValue(reader.node.id, "nothing"), undefined);
      });

      await t.step("an announcement scoped to the region is not found from the other region", async () => {
        const [p] = at(0, 1);
        assertEquals(await p.node.hierarchy.provide("rpc", "regional", { scope: "r0" }), 1);
        const near = await at(0, 0)[1].node.hierarchy.findProviders("rpc", "regional");
        assertEquals(near.level, 1);
        const far = await at(1, 0)[1].node.hierarchy.findProviders("rpc", "regional");
        assertEquals(far.records.length, 0);
        assertEquals(far.level, -1);
      });

      await t.step("bridges refuse what they must not serve, with typed errors", async () => {
        const [asker] = at(0, 0);
        const channel = new RequestChannel(asker.node, HIER_PROTOCOL, validateHierReply);
        const plain = at(0, 0)[1];
        const bridge = at(0, 0, (b) => b === 1)[0];
        // Not a member of the region level: E_FORBIDDEN.
        const notBridge = await assertRejects(
          () => channel.request(plain.node.id, { t: "find", kind: "rpc", name: "x", level: 1 }),
          RemoteError,
        );
        assertEquals((notBridge as RemoteError).code, "E_FORBIDDEN");
        // A record for another key, and one from another branch: E_REJECTED.
        const realm = asker.cityRealm;
        const rec = (r: string, name: string) =>
          encodeProviderRecord(
            createProviderRecord(signerOf(asker.keyPair), asker.node.record(), r, realmKey(r, "rpc", name), 60_000),
          );
        for (const [r, why] of [[realm, "another key"], ["default@r1/c0", "not from below"]] as const) {
          const e = await assertRejects(
            () => channel.request(bridge.node.id, { t: "up", kind: "rpc", name: "y", level: 1, rec: rec(r, "z") }),
            RemoteError,
          );
          assertEquals((e as RemoteError).code, "E_REJECTED", why);
        }
        const ok = await channel.request(bridge.node.id, {
          t: "up",
          kind: "rpc",
          name: "y",
          level: 1,
          scope: 1,
          rec: rec(realm, "y"),
        });
        assertEquals(ok, { ok: true, level: 1 });
      });

      await t.step("RPC: advertise and call with a scope go through the hierarchy", async () => {
        const [a, b] = at(0, 0);
        const [c] = at(1, 0);
        a.node.advertise("city.echo", () => "from a", { scope: "c0" });
        await until(async () =>
          (await b.node.hierarchy.findProviders("rpc", "city.echo", { fresh: true })).level === 2
        );
        assertEquals(await b.node.call("city.echo", null), "from a");
        assertEquals(await b.node.call("city.echo", null, { scope: "local" }), "from a");
        // Scoped to its city: not in the flat DHT, not announced above the city.
        await assertRejects(() => c.node.call("city.echo", null, { timeout: 3_000 }), NoProviderError);
        c.node.advertise("everywhere.echo", () => "from c");
        await until(async () =>
          (await a.node.hierarchy.findProviders("rpc", "everywhere.echo", { fresh: true })).level === 0
        );
        assertEquals(await a.node.call("everywhere.echo", null), "from c");
        await assertRejects(
          () => a.node.call("everywhere.echo", null, { scope: "r0", timeout: 3_000 }),
          NoProviderError,
        );
      });

      await t.step("a dead bridge is replaced: escalation goes through the next one", async () => {
        const [provider] = at(1, 1);
        await provider.node.hierarchy.provide("rpc", "far.service");
        const askers = at(0, 0);
        const first = await askers[0].node.hierarchy.findProviders("rpc", "far.service");
        assertEquals(first.level, 0);
        // Kill the city's bridge members try first (the one closest to the level's bridge key).
        const key = realmKey(askers[1].cityRealm, "raw", "macula/hier/bridge");
        const bridges = sortByDistance(key, at(0, 0, (b) => b >= 1), (h) => dhtId(h.node.id));
        const dead: HierNode = bridges[0];
        await dead.node.stop();
        const finds = () => askers[1].node.metrics.registry.find("macula_hier_requests_total")!.get({ t: "find" });
        const before = finds();
        const again = await askers[1].node.hierarchy.findProviders("rpc", "far.service", { fresh: true });
        assert(again.records.some((r) => r.provider.id.equals(provider.node.id)), "found through another bridge");
        assertEquals(finds() - before, 2, "the dead bridge, then the next one");
        const status = askers[1].node.hierarchy.status();
        assertEquals(status.locality, "r0/c0");
      });
    } finally {
      await Promise.all(all.map((h) => h.node.stop()));
    }
  },
});

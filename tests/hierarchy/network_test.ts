/**
 * The hierarchical DHT on an in-memory network of 1,000 full nodes in a
 * 3-level hierarchy (global → 4 regions → 5 cities each): local hits never
 * leave their level, misses escalate and succeed 100 % (also with 30 % of
 * the nodes dead, bridges included), repeated lookups hit the cache, and
 * messages per lookup are compared with the flat DHT in the same run.
 * `MACULA_HIER_TEST_NODES` sets the size.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { rng } from "../helpers/mutate.ts";
import { realmKey } from "../../src/dht/keys.ts";
import { buildHierarchy, type HierNode, median, messageCounts, messagesBetween, REALM } from "./network.ts";

const SIZE = Number(Deno.env.get("MACULA_HIER_TEST_NODES") ?? 1000);
const SHAPE = { size: SIZE, regions: 4, citiesPerRegion: 5, cityBridges: 6, regionBridges: 2 };

Deno.test({
  name: `hierarchy: ${SIZE} in-memory nodes in 3 levels — local, escalated, cached, and with 30 % dead`,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const random = rng(16);
    const started = performance.now();
    const all = await buildHierarchy(SHAPE, random);
    const nodes = all.map((h) => h.node);
    console.log(`    built ${SIZE} nodes in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const pickIn = (ok: (h: HierNode) => boolean, from = all) => {
      const c = from.filter(ok);
      return c[Math.floor(random() * c.length)];
    };
    // One service per city, provided (globally) by 2 ordinary nodes of the city.
    const providers = new Map<string, HierNode[]>();
    try {
      await t.step("providers announce at their level and, through bridges, up to the global level", async () => {
        for (let r = 0; r < SHAPE.regions; r++) {
          for (let c = 0; c < SHAPE.citiesPerRegion; c++) {
            const here = all.filter((h) => h.region === r && h.city === c && h.bridge === 0);
            const chosen = [here[0], here[1]];
            providers.set(`svc.r${r}.c${c}`, chosen);
            for (const p of chosen) {
              assertEquals(await p.node.hierarchy.provide("rpc", `svc.r${r}.c${c}`), 0, "reached the global level");
              await p.node.dht.provide(REALM, realmKey(REALM, "rpc", `svc.r${r}.c${c}`));
            }
          }
        }
      });

      await t.step("local hits are answered at the city level: no message leaves it", async () => {
        let outside = 0;
        const msgs: number[] = [];
        for (let i = 0; i < 100; i++) {
          const asker = pickIn((h) => h.bridge === 0);
          const before = messageCounts(nodes);
          const res = await asker.node.hierarchy.findProviders("rpc", `svc.r${asker.region}.c${asker.city}`);
          const m = messagesBetween(before, messageCounts(nodes), asker.cityRealm);
          assertEquals(res.level, 2);
          assertEquals(res.records.length, 2);
          outside += m.outside;
          msgs.push(m.total);
        }
        console.log(`    100 local hits: ${outside} messages outside the city level; median ${median(msgs)} messages`);
        assertEquals(outside, 0);
      });

      const escalated = async (label: string, from: HierNode[], fresh: boolean) => {
        const levels = [0, 0, 0];
        const hier: number[] = [];
        const flat: number[] = [];
        const flatHops: number[] = [];
        let ok = 0;
        const tries = 100;
        for (let i = 0; i < tries; i++) {
          const asker = pickIn(() => true, from);
          const sameRegion = i % 2 === 0;
          const target = pickIn((h) => h.region === asker.region === sameRegion && h.cityRealm !== asker.cityRealm);
          const name = `svc.r${target.region}.c${target.city}`;
          let before = messageCounts(nodes);
          const res = await asker.node.hierarchy.findProviders("rpc", name, { fresh });
          hier.push(messagesBetween(before, messageCounts(nodes)).total);
          const want = new Set(providers.get(name)!.filter((p) => from.includes(p)).map((p) => p.node.id.hex));
          if (res.records.some((r) => want.has(r.provider.id.hex))) ok++;
          if (res.level >= 0) levels[res.level]++;
          before = messageCounts(nodes);
          await asker.node.dht.findProviders(REALM, realmKey(REALM, "rpc", name), { limit: 2 });
          flat.push(messagesBetween(before, messageCounts(nodes)).total);
          flatHops.push(asker.node.dht.status().lastLookupHops as number);
        }
        console.log(
          `    ${label}: ${ok}/${tries} found; answered at level 0/1/2: ${levels.join("/")}; ` +
            `messages per lookup median: hierarchy ${median(hier)}, flat ${median(flat)} (flat hops ${
              median(flatHops)
            })`,
        );
        assertEquals(ok, tries);
        assert(levels[0] > 0 && levels[1] > 0, "both the region and the global level answered");
      };

      await t.step("misses escalate to the region or the global level and succeed 100 %", async () => {
        await escalated("escalated", all, true);
      });

      await t.step("repeated lookups hit the cache: no message at all", async () => {
        const asker = pickIn((h) => h.bridge === 0 && h.region === 0);
        const name = "svc.r3.c4";
        const first = await asker.node.hierarchy.findProviders("rpc", name);
        assert(first.records.length > 0);
        const before = messageCounts(nodes);
        const again = await asker.node.hierarchy.findProviders("rpc", name);
        assertEquals(messagesBetween(before, messageCounts(nodes)).total, 0);
        assert(again.cached);
        assertEquals(again.records.length, first.records.length);
        // Another member of the city asking the same goes no further than its bridge's cache.
        const other = pickIn((h) => h.bridge === 0 && h.cityRealm === asker.cityRealm && h !== asker);
        const b2 = messageCounts(nodes);
        const viaBridge = await other.node.hierarchy.findProviders("rpc", name);
        const m = messagesBetween(b2, messageCounts(nodes), asker.cityRealm);
        assert(viaBridge.records.length > 0);
        console.log(
          `    cache: 0 messages on a repeat; a neighbour's lookup took ${m.total} (${m.outside} bridge requests)`,
        );
      });

      await t.step("scope bounds escalation: a city-scoped lookup of another city finds nothing", async () => {
        const asker = pickIn((h) => h.bridge === 0 && h.region === 1 && h.city === 0);
        const before = messageCounts(nodes);
        const res = await asker.node.hierarchy.findProviders("rpc", "svc.r2.c2", { scope: "c0" });
        assertEquals(res.records.length, 0);
        assertEquals(messagesBetween(before, messageCounts(nodes), asker.cityRealm).outside, 0);
        const region = await asker.node.hierarchy.findProviders("rpc", "svc.r1.c3", { scope: "r1" });
        assertEquals(region.level, 1);
        const notGlobal = await asker.node.hierarchy.findProviders("rpc", "svc.r2.c2", { scope: 1 });
        assertEquals(notGlobal.records.length, 0);
      });

      await t.step("with 30 % of the nodes dead, bridges included, escalation still succeeds 100 %", async () => {
        // Kill at random, except the providers and the last live bridge of a city or region.
        const keep = new Set([...providers.values()].flat());
        const killed = new Set<HierNode>();
        const liveBridges = (ok: (h: HierNode) => boolean) => all.filter((h) => ok(h) && !killed.has(h)).length;
        while (killed.size < Math.floor(SIZE * 0.3)) {
          const h = all[Math.floor(random() * all.length)];
          if (keep.has(h) || killed.has(h)) continue;
          if (h.bridge >= 1 && liveBridges((x) => x.cityRealm === h.cityRealm && x.bridge >= 1) <= 1) continue;
          if (h.bridge >= 2 && liveBridges((x) => x.region === h.region && x.bridge >= 2) <= 1) continue;
          killed.add(h);
        }
        const deadBridges = [...killed].filter((h) => h.bridge > 0).length;
        await Promise.all([...killed].map((h) => h.node.stop()));
        const alive = all.filter((h) => !killed.has(h));
        // Providers hand their announcements to live bridges again (their republish timer, run now).
        await Promise.all([...keep].map((p) => p.node.hierarchy.republish()));
        console.log(`    killed ${killed.size} nodes, ${deadBridges} of them bridges`);
        assert(deadBridges > 0);
        await escalated("after the kill", alive, true);
      });
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
    }
  },
});

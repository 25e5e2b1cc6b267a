/**
 * Hierarchical DHT figures on an in-memory network (global → 4 regions → 5
 * cities; `MACULA_HIER_BENCH_NODES`, default 1000): lookups from random
 * nodes for services provided in their own city (½), another city of their
 * region (¼) or another region (¼), first without cache, then repeated.
 * Prints the share answered at each level and the messages per lookup
 * (DHT queries + bridge requests, every node counted) against the flat DHT
 * of the same nodes, medians.
 *
 *   deno task bench:hierarchy
 */
import { realmKey } from "../src/dht/keys.ts";
import { rng } from "../tests/helpers/mutate.ts";
import {
  buildHierarchy,
  type HierNode,
  median,
  messageCounts,
  messagesBetween,
  REALM,
} from "../tests/hierarchy/network.ts";

const SIZE = Number(Deno.env.get("MACULA_HIER_BENCH_NODES") ?? 1000);
const LOOKUPS = Number(Deno.env.get("MACULA_HIER_BENCH_LOOKUPS") ?? 400);
const SHAPE = { size: SIZE, regions: 4, citiesPerRegion: 5, cityBridges: 6, regionBridges: 2 };

const random = rng(2026);
const t0 = performance.now();
const all = await buildHierarchy(SHAPE, random);
const nodes = all.map((h) => h.node);
console.log(
  `built ${SIZE} nodes (${SHAPE.regions} regions × ${SHAPE.citiesPerRegion} cities) in ${
    ((performance.now() - t0) / 1000).toFixed(1)
  } s`,
);
const pick = (ok: (h: HierNode) => boolean) => {
  const c = all.filter(ok);
  return c[Math.floor(random() * c.length)];
};
try {
  for (let r = 0; r < SHAPE.regions; r++) {
    for (let c = 0; c < SHAPE.citiesPerRegion; c++) {
      const p = pick((h) => h.region === r && h.city === c && h.bridge === 0);
      await p.node.hierarchy.provide("rpc", `svc.r${r}.c${c}`);
      await p.node.dht.provide(REALM, realmKey(REALM, "rpc", `svc.r${r}.c${c}`));
    }
  }
  const plan = Array.from({ length: LOOKUPS }, (_, i) => {
    const asker = pick(() => true);
    const where = i % 4;
    const target = where < 2
      ? asker
      : where === 2
      ? pick((h) => h.region === asker.region && h.city !== asker.city)
      : pick((h) => h.region !== asker.region);
    return { asker, name: `svc.r${target.region}.c${target.city}` };
  });
  const run = async (label: string, fresh: boolean) => {
    const levels = new Map<string, number>();
    const hier: number[] = [];
    const flat: number[] = [];
    const ms: number[] = [];
    for (const { asker, name } of plan) {
      let before = messageCounts(nodes);
      const s = performance.now();
      const res = await asker.node.hierarchy.findProviders("rpc", name, { fresh, limit: 1 });
      ms.push(performance.now() - s);
      hier.push(messagesBetween(before, messageCounts(nodes)).total);
      const where = res.cached ? "cache" : res.level < 0 ? "not found" : `level ${res.level}`;
      levels.set(where, (levels.get(where) ?? 0) + 1);
      before = messageCounts(nodes);
      await asker.node.dht.findProviders(REALM, realmKey(REALM, "rpc", name), { limit: 1 });
      flat.push(messagesBetween(before, messageCounts(nodes)).total);
    }
    const share = [...levels].sort().map(([k, v]) => `${k} ${((100 * v) / plan.length).toFixed(0)} %`).join(", ");
    console.log(`${label}: answered at ${share}`);
    console.log(
      `  messages per lookup, median (mean): hierarchy ${median(hier)} (${mean(hier)}), flat ${median(flat)} (${
        mean(flat)
      }); hierarchy lookup ${median(ms).toFixed(1)} ms median`,
    );
  };
  await run(`${LOOKUPS} lookups, no cache (½ own city, ¼ own region, ¼ elsewhere)`, true);
  await run("the same lookups again (cache)", false);
} finally {
  await Promise.all(nodes.map((n) => n.stop()));
}

function mean(xs: number[]): string {
  return (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(1);
}

/**
 * Test and bench helper: an in-memory network of full nodes in a 3-level
 * hierarchy (global → region → city; `regions` × `cities` clusters). Every
 * node also runs in the flat realm, so the flat DHT can be measured in the
 * same run. Bridges are chosen the automatic way: in each city, the nodes
 * whose DHT ids are closest to the city's key bridge into the region; of
 * those, the ones closest to the region's key bridge on into the global
 * level.
 */
import { KeyPair } from "../../src/identity/ed25519.ts";
import { dhtId, realmKey, sortByDistance } from "../../src/dht/keys.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import type { Node } from "../../src/api/node.ts";
import type { Counter } from "../../src/metrics/registry.ts";
import { MemoryNetwork, memoryNode } from "../helpers/nodes.ts";

export const REALM = "default";
const JOIN_BATCH = 4;

/** One node of the hierarchy. */
export interface HierNode {
  node: Node;
  keyPair: KeyPair;
  region: number;
  city: number;
  /** Levels it bridges (0, 1 or 2). */
  bridge: number;
  /** Its city's overlay. */
  cityRealm: string;
}

/** Shape of the network. */
export interface HierShape {
  size: number;
  regions: number;
  citiesPerRegion: number;
  /** Bridges per city into the region. */
  cityBridges: number;
  /** Of those, bridges per city on into the global level. */
  regionBridges: number;
}

/** Build the network (`extra`: more node options): nodes join one by one through a random earlier node of their city (bridges also of their region / the global level). */
export async function buildHierarchy(
  shape: HierShape,
  random: () => number,
  extra: Parameters<typeof memoryNode>[1] = {},
): Promise<HierNode[]> {
  const network = new MemoryNetwork();
  const clusters = shape.regions * shape.citiesPerRegion;
  const keys = Array.from({ length: shape.size }, () => KeyPair.generate());
  const plan: Array<{ keyPair: KeyPair; region: number; city: number; bridge: number }> = [];
  for (let c = 0; c < clusters; c++) {
    const region = Math.floor(c / shape.citiesPerRegion);
    const city = c % shape.citiesPerRegion;
    const members = keys.filter((_, i) => i % clusters === c);
    const cityKey = realmKey(`${REALM}@r${region}/c${city}`, "raw", "bridges");
    const regionKey = realmKey(`${REALM}@r${region}`, "raw", "bridges");
    const idOf = (kp: KeyPair) => dhtId(new NodeId(kp.publicKey));
    const cityBridges = sortByDistance(cityKey, members, idOf).slice(0, shape.cityBridges);
    const regionBridges = new Set(sortByDistance(regionKey, cityBridges, idOf).slice(0, shape.regionBridges));
    for (const kp of members) {
      const bridge = regionBridges.has(kp) ? 2 : cityBridges.includes(kp) ? 1 : 0;
      plan.push({ keyPair: kp, region, city, bridge });
    }
  }
  // Bridges first in each cluster, so the ones joining later find them.
  plan.sort((a, b) => b.bridge - a.bridge);
  const out: HierNode[] = [];
  const join = async (p: (typeof plan)[number]) => {
    const locality = `r${p.region}/c${p.city}`;
    const node = await memoryNode(network, {
      keyPair: p.keyPair,
      locality,
      bridge: p.bridge,
      hierarchy: { levelTimeout: 2_000 },
      dht: { requestTimeout: 500 },
      limits: { maxConnections: 128 },
      auth: false,
      content: false,
      nat: false,
      punch: false,
      relay: false,
      ...extra,
    });
    const me: HierNode = {
      node,
      keyPair: p.keyPair,
      region: p.region,
      city: p.city,
      bridge: p.bridge,
      cityRealm: `${REALM}@${locality}`,
    };
    const pick = (ok: (h: HierNode) => boolean) => {
      const c = out.filter(ok);
      return c.length > 0 ? c[Math.floor(random() * c.length)] : undefined;
    };
    const peers = [
      pick((h) => h.region === p.region && h.city === p.city),
      p.bridge >= 1 ? pick((h) => h.region === p.region && h.bridge >= 1) : undefined,
      p.bridge >= 2 ? pick((h) => h.bridge >= 2) : undefined,
      pick(() => true),
    ];
    for (const peer of new Set(peers)) if (peer) await node.connect(peer.node.addrs[0]);
    // The DHT's join lookups (one per overlay, on the first contact) run in the background.
    await new Promise((r) => setTimeout(r, 1));
    return me;
  };
  // Join a few at a time (each through nodes already joined).
  out.push(await join(plan[0]));
  for (let i = 1; i < plan.length; i += JOIN_BATCH) {
    out.push(...await Promise.all(plan.slice(i, i + JOIN_BATCH).map(join)));
  }
  // Bridges announce themselves again now that every level is populated.
  await Promise.all(out.filter((h) => h.bridge > 0).map((h) => h.node.hierarchy.republish()));
  return out;
}

/** Messages sent so far by `nodes`: DHT queries by realm and bridge requests. */
export function messageCounts(nodes: Node[]): { byRealm: Map<string, number>; bridge: number } {
  const byRealm = new Map<string, number>();
  let bridge = 0;
  for (const n of nodes) {
    const q = n.metrics.registry.find("macula_dht_queries_total") as Counter | undefined;
    for (const realm of n.realms) byRealm.set(realm, (byRealm.get(realm) ?? 0) + (q?.get({ realm }) ?? 0));
    bridge += n.metrics.registry.find("macula_hier_requests_total")?.total() ?? 0;
  }
  return { byRealm, bridge };
}

/** Messages between two counts: total, and outside `realm` (DHT queries in other overlays plus bridge requests). */
export function messagesBetween(
  before: ReturnType<typeof messageCounts>,
  after: ReturnType<typeof messageCounts>,
  realm?: string,
): { total: number; outside: number } {
  let total = after.bridge - before.bridge;
  let outside = total;
  for (const [r, v] of after.byRealm) {
    const d = v - (before.byRealm.get(r) ?? 0);
    total += d;
    if (r !== realm) outside += d;
  }
  return { total, outside };
}

/** Median of `xs`. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[s.length >> 1];
}

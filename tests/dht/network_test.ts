/**
 * The DHT on an in-memory network of 1,000 full nodes (real Node, real
 * protocol stack, in-memory links): every lookup succeeds, hop counts are
 * reported, and lookups still succeed after 30 % of the nodes are killed.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { MemoryNetwork, memoryNode } from "../helpers/nodes.ts";
import type { Node } from "../../src/api/node.ts";
import { realmKey } from "../../src/dht/keys.ts";
import { rng } from "../helpers/mutate.ts";

const SIZE = Number(Deno.env.get("MACULA_DHT_TEST_NODES") ?? 1000);
const REALM = "default";

async function buildNetwork(size: number, random: () => number): Promise<Node[]> {
  const network = new MemoryNetwork();
  const nodes: Node[] = [];
  for (let i = 0; i < size; i++) {
    const node = await memoryNode(network, { dht: { requestTimeout: 500 }, limits: { maxConnections: 128 } });
    if (i > 0) {
      // Join through one random existing node, then look ourselves up.
      await node.connect(nodes[Math.floor(random() * nodes.length)].addrs[0]);
      while (node.dht.table(REALM).size === 0) await new Promise((r) => setTimeout(r, 1));
      await node.dht.lookup(REALM, node.dht.table(REALM).selfKey);
    }
    nodes.push(node);
  }
  return nodes;
}

function summary(hops: number[]): string {
  const sorted = [...hops].sort((a, b) => a - b);
  const mean = hops.reduce((a, b) => a + b, 0) / hops.length;
  return `hops mean ${mean.toFixed(2)}, median ${sorted[sorted.length >> 1]}, max ${sorted[sorted.length - 1]}`;
}

Deno.test({
  name: `dht: ${SIZE} in-memory nodes — lookups succeed 100 %, also with 30 % of nodes killed`,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const random = rng(42);
    const started = performance.now();
    const nodes = await buildNetwork(SIZE, random);
    console.log(`    built ${SIZE} nodes in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    try {
      await t.step("every node finds 1 random other node's record (1,000 lookups)", async () => {
        const hops: number[] = [];
        let found = 0;
        for (const source of nodes) {
          let target = nodes[Math.floor(random() * SIZE)];
          if (target === source) target = nodes[(nodes.indexOf(source) + 1) % SIZE];
          const record = await source.dht.findNode(REALM, target.id);
          if (record?.id.equals(target.id)) found++;
          hops.push(source.dht.status().lastLookupHops as number);
        }
        console.log(`    ${found}/${SIZE} found; ${summary(hops)}`);
        assertEquals(found, SIZE);
      });

      await t.step("providers announced by 5 nodes are found from anywhere", async () => {
        const key = realmKey(REALM, "rpc", "math.add");
        const providers = nodes.slice(10, 15);
        for (const p of providers) assert((await p.dht.provide(REALM, key)) > 0);
        for (let i = 0; i < 50; i++) {
          const asker = nodes[Math.floor(random() * SIZE)];
          const found = await asker.dht.findProviders(REALM, key, { limit: 5 });
          const ids = new Set(found.map((r) => r.provider.id.did));
          for (const p of providers) assert(ids.has(p.did), `${asker.id.short} missed provider ${p.id.short}`);
        }
      });

      await t.step("with 30 % of the nodes killed, lookups still succeed", async () => {
        const killed = new Set<Node>();
        while (killed.size < Math.floor(SIZE * 0.3)) killed.add(nodes[Math.floor(random() * SIZE)]);
        await Promise.all([...killed].map((n) => n.stop()));
        const alive = nodes.filter((n) => !killed.has(n));
        const hops: number[] = [];
        let found = 0;
        const tries = 500;
        for (let i = 0; i < tries; i++) {
          const source = alive[Math.floor(random() * alive.length)];
          let target = alive[Math.floor(random() * alive.length)];
          if (target === source) target = alive[(alive.indexOf(source) + 1) % alive.length];
          const record = await source.dht.findNode(REALM, target.id);
          if (record?.id.equals(target.id)) found++;
          hops.push(source.dht.status().lastLookupHops as number);
        }
        console.log(`    after killing ${killed.size}: ${found}/${tries} found; ${summary(hops)}`);
        assertEquals(found, tries);
      });
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
    }
  },
});

/**
 * Convergence of real nodes (in-memory links) under random partitions:
 * 5 nodes in a full mesh, seeded random writes and deletes on random nodes
 * while the network is split at random (dials across refused, connections
 * closed), heals every few rounds; after every heal all 5 maps are equal.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { MemoryNetwork, memoryNode, until } from "../helpers/nodes.ts";
import { rng } from "../helpers/mutate.ts";
import type { Node } from "../../src/api/node.ts";
import { DialError } from "../../src/transport/errors.ts";
import type { StateMap } from "../../src/state/state-map.ts";

/** Refuses dials between nodes on different sides while `sides` is set. */
class PartitionedNetwork extends MemoryNetwork {
  sides?: Map<string, number>;
  override connect(...args: Parameters<MemoryNetwork["connect"]>): ReturnType<MemoryNetwork["connect"]> {
    const [to, , from] = args;
    if (this.sides && this.sides.get(to) !== this.sides.get(from)) throw new DialError("partitioned");
    return super.connect(...args);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const snapshot = (m: StateMap) => JSON.stringify(m.entries().sort(([a], [b]) => a < b ? -1 : 1));

Deno.test({
  name: "state: 5 real nodes converge after random partitions with concurrent writes (seeded, 30 rounds)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const network = new PartitionedNetwork();
    const names = ["p0", "p1", "p2", "p3", "p4"];
    const nodes: Node[] = [];
    try {
      for (const name of names) nodes.push(await memoryNode(network, { memory: { network, name } }));
      const connectAll = () =>
        Promise.all(nodes.flatMap((a, i) => nodes.slice(i + 1).map((b) => a.connect(b.addrs[0]))));
      await connectAll();
      const maps = await Promise.all(nodes.map((n) => n.state.open("prop")));
      const rand = rng(16);
      let heals = 0;
      for (let round = 0; round < 30; round++) {
        // Split into two random sides (maybe one side empty: no partition).
        const side = names.map(() => (rand() < 0.5 ? 0 : 1));
        network.sides = new Map(names.map((n, i) => [n, side[i]]));
        for (let quiet = 0; quiet < 30;) {
          let cut = true;
          for (let i = 0; i < 5; i++) {
            for (let j = 0; j < 5; j++) {
              if (side[i] !== side[j] && nodes[i].connection(nodes[j].id)) {
                nodes[i].connection(nodes[j].id)!.close();
                cut = false;
              }
            }
          }
          quiet = cut ? quiet + 10 : 0;
          await sleep(10);
        }
        for (let k = 0; k < 8; k++) {
          const m = maps[Math.floor(rand() * 5)];
          const key = `k${Math.floor(rand() * 6)}`;
          if (rand() < 0.2) m.delete(key);
          else m.set(key, Math.floor(rand() * 100));
        }
        await sleep(20);
        if (round % 5 === 4) {
          network.sides = undefined;
          await connectAll();
          await until(
            () => maps.every((m) => snapshot(m) === snapshot(maps[0])),
            10_000,
            `convergence, round ${round}`,
          );
          heals++;
        }
      }
      assertEquals(heals, 6);
      assert(maps[0].size > 0);
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
    }
  },
});

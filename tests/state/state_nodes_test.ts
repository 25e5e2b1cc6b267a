/**
 * Replicated state across real nodes on an in-memory network: gossip,
 * anti-entropy on reconnect, persistence across a restart.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { joinedNodes, MemoryNetwork, memoryNode, until } from "../helpers/nodes.ts";
import type { Node } from "../../src/api/node.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import type { StateChange } from "../../src/state/state-map.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

async function stopAll(nodes: Node[]) {
  await Promise.all(nodes.map((n) => n.stop()));
}

Deno.test({
  name: "state: a write on one node of a chain reaches every other, and concurrent writes converge",
  ...opts,
  async fn() {
    const nodes = await joinedNodes(new MemoryNetwork(), 4, "chain");
    try {
      const maps = await Promise.all(nodes.map((n) => n.state.open("fleet")));
      const seen: StateChange[] = [];
      maps[3].subscribe((c) => seen.push(c));
      maps[0].set("mode", "eco");
      await until(() => maps.every((m) => m.get("mode") === "eco"), 5000, "gossip along the chain");
      assert(seen.some((c) => c.key === "mode" && c.value === "eco" && !c.local));
      for (let i = 0; i < maps.length; i++) maps[i].set("who", i);
      maps[2].set("gone", 1);
      await until(() => maps.every((m) => m.get("gone") === 1), 5000, "gone set");
      maps[1].delete("gone");
      await until(
        () => maps.every((m) => !m.has("gone") && m.get("who") === maps[0].get("who")),
        5000,
        "convergence",
      );
      assertEquals(maps[3].entries().sort(), maps[0].entries().sort());
    } finally {
      await stopAll(nodes);
    }
  },
});

Deno.test({
  name: "state: writes made while disconnected are exchanged on reconnect (anti-entropy)",
  ...opts,
  async fn() {
    const network = new MemoryNetwork();
    const [a, b] = await joinedNodes(network, 2, "chain");
    try {
      const ma = await a.state.open("cfg"), mb = await b.state.open("cfg");
      ma.set("x", 1);
      await until(() => mb.get("x") === 1, 5000, "first write");
      a.connection(b.id)?.close();
      await until(() => !a.connection(b.id) && !b.connection(a.id), 5000, "disconnected");
      ma.set("a-only", "A");
      mb.set("b-only", "B");
      mb.set("x", 2);
      await b.connect(a.addrs[0]);
      await until(
        () => ma.get("b-only") === "B" && mb.get("a-only") === "A" && ma.get("x") === 2,
        5000,
        "sync on reconnect",
      );
      assertEquals(ma.entries().sort(), mb.entries().sort());
    } finally {
      await stopAll([a, b]);
    }
  },
});

Deno.test({
  name: "state: a map persists in the data dir across a restart",
  ...opts,
  async fn() {
    const dataDir = await Deno.makeTempDir();
    const keyPair = KeyPair.generate();
    const network = new MemoryNetwork();
    try {
      let node = await memoryNode(network, { dataDir, keyPair });
      const m = await node.state.open("jobs");
      m.set("job-1", { holder: "a", since: 1 });
      m.set("job-2", "b");
      m.delete("job-2");
      await node.stop();
      node = await memoryNode(network, { dataDir, keyPair });
      const again = await node.state.open("jobs");
      assertEquals(again.entries(), [["job-1", { holder: "a", since: 1 }]]);
      again.set("job-3", 3);
      assertEquals(again.size, 2);
      await node.stop();
      const files = [...Deno.readDirSync(`${dataDir}/state/${node.realms[0]}`)].map((e) => e.name);
      assertEquals(files, ["jobs.state"]);
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "state: a corrupt snapshot is moved aside and the map starts empty, then refills from a peer",
  ...opts,
  async fn() {
    const dataDir = await Deno.makeTempDir();
    const network = new MemoryNetwork();
    const keyPair = KeyPair.generate();
    try {
      let node = await memoryNode(network, { dataDir, keyPair });
      const realm = node.realms[0];
      (await node.state.open("cfg")).set("k", "v");
      await node.stop();
      const file = `${dataDir}/state/${realm}/cfg.state`;
      const bytes = await Deno.readFile(file);
      await Deno.writeFile(file, bytes.subarray(0, bytes.length - 3)); // a torn write
      const peer = await memoryNode(network);
      (await peer.state.open("cfg")).set("from-peer", 1);
      node = await memoryNode(network, { dataDir, keyPair });
      const m = await node.state.open("cfg");
      assertEquals(m.size, 0);
      assert((await Deno.stat(`${file}.corrupt`)).isFile);
      await node.connect(peer.addrs[0]);
      await until(() => m.get("from-peer") === 1, 5000, "refilled from the peer");
      await Promise.all([node.stop(), peer.stop()]);
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "state: a counter counts concurrent increments on every node; a set converges on adds and removes",
  ...opts,
  async fn() {
    const nodes = await joinedNodes(new MemoryNetwork(), 3, "chain");
    try {
      const counters = await Promise.all(nodes.map((n) => n.state.openCounter("visits")));
      const sets = await Promise.all(nodes.map((n) => n.state.openSet("online")));
      for (let i = 0; i < 10; i++) counters[i % 3].add(i % 4 === 0 ? -1 : 2);
      sets[0].add("a");
      sets[1].add("b");
      sets[2].add("c");
      await until(() => sets.every((s) => s.size === 3), 5000, "set adds");
      sets[1].delete("a");
      const expected = [...Array(10).keys()].reduce((sum, i) => sum + (i % 4 === 0 ? -1 : 2), 0);
      await until(() => counters.every((c) => c.value() === expected), 5000, "counter");
      await until(() => sets.every((s) => s.values().sort().join() === "b,c"), 5000, "set remove");
      assertEquals(counters[0].map.size, 3, "one key per writer");
    } finally {
      await stopAll(nodes);
    }
  },
});

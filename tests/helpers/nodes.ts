/** Test helper: nodes on an in-memory network or on loopback sockets. */
import { KeyPair } from "../../src/identity/ed25519.ts";
import { Logger } from "../../src/log/logger.ts";
import { Node, type NodeOptions } from "../../src/api/node.ts";
import { MemoryNetwork } from "../../src/transport/memory.ts";

let counter = 0;

/** Start a node on `network` (named uniquely) with a fresh key. */
export function memoryNode(network: MemoryNetwork, options: Partial<NodeOptions> = {}): Promise<Node> {
  return Node.start({
    keyPair: KeyPair.generate(),
    memory: { network, name: `n${++counter}` },
    logger: Logger.silent(),
    ...options,
  });
}

/** Start a node on 127.0.0.1 with ephemeral ports (QUIC and TCP unless told otherwise). */
export function loopbackNode(options: Partial<NodeOptions> = {}): Promise<Node> {
  return Node.start({ keyPair: KeyPair.generate(), host: "127.0.0.1", port: 0, logger: Logger.silent(), ...options });
}

/** Wait until `predicate` holds (polling), or fail after `ms`. */
export async function until(predicate: () => boolean | Promise<boolean>, ms = 5000, what = "condition"): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export { MemoryNetwork };

/**
 * `length` nodes on `network`, each joined into the DHT of the primary realm:
 * through the previous node (a chain a - b - c - …) or through the first (a
 * star). `options(i)` gives node `i`'s extra options.
 */
export async function joinedNodes(
  network: MemoryNetwork,
  length: number,
  shape: "chain" | "star" = "chain",
  options: (index: number) => Partial<NodeOptions> = () => ({}),
): Promise<Node[]> {
  const nodes: Node[] = [];
  for (let i = 0; i < length; i++) {
    const n = await memoryNode(network, options(i));
    if (i > 0) {
      await n.connect(nodes[shape === "chain" ? i - 1 : 0].addrs[0]);
      await until(() => n.dht.table(n.realms[0]).size > 0, 2000, "join");
      await n.dht.lookup(n.realms[0], n.dht.table(n.realms[0]).selfKey);
    }
    nodes.push(n);
  }
  return nodes;
}

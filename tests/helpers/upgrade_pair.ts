/**
 * Test helper: two full nodes that reach each other through a relayed
 * connection first (`relayed_transport.ts`), and can be upgraded to a
 * direct connection (and have it killed) on demand.
 *
 * @module
 */
import { KeyPair } from "../../src/identity/ed25519.ts";
import { Logger } from "../../src/log/logger.ts";
import { Node } from "../../src/api/node.ts";
import type { ConnectionLimits } from "../../src/node/connection-manager.ts";
import { formatAddress } from "../../src/transport/address.ts";
import type { Connection } from "../../src/transport/connection.ts";
import { PipeTransport, Switchboard } from "./relayed_transport.ts";
import { until } from "./nodes.ts";

/** One node of an `UpgradePair` and its two transports. */
export interface PairNode {
  node: Node;
  relay: PipeTransport;
  direct: PipeTransport;
}

/** Two nodes, `a` connected to `b` through the relay transport only. */
export interface UpgradePair {
  a: PairNode;
  b: PairNode;
  /** The relayed connection `a` dialed. */
  relayed: Connection;
  /** Make the direct path usable and have `a` dial `b` directly; resolves with the ms until `a` uses it. */
  upgrade(): Promise<number>;
  stop(): Promise<void>;
}

async function startNode(board: Switchboard, latency: number, limits: ConnectionLimits): Promise<PairNode> {
  const relay = new PipeTransport(board, { route: "relayed", latency });
  const direct = new PipeTransport(board, { route: "direct" });
  direct.kill(); // no direct path yet (behind NAT, say)
  const node = await Node.start({
    keyPair: KeyPair.generate(),
    transports: [direct, relay],
    logger: Logger.silent(),
    limits,
  });
  return { node, relay, direct };
}

/**
 * Start two nodes and connect `a` to `b` through the relayed path
 * (`latency` ms one way on it, to make the paths differ).
 */
export async function upgradePair(
  options: { latency?: number; limits?: ConnectionLimits } = {},
): Promise<UpgradePair> {
  const board = new Switchboard();
  const a = await startNode(board, options.latency ?? 10, options.limits ?? {});
  const b = await startNode(board, options.latency ?? 10, options.limits ?? {});
  const relayed = await a.node.connect(formatAddress(b.relay.addressOf(b.node.id)));
  await until(() => !!b.node.connection(a.node.id), 5_000, "b sees the relayed connection");
  return {
    a,
    b,
    relayed,
    async upgrade() {
      a.direct.revive();
      b.direct.revive();
      const started = performance.now();
      const conn = await a.node.connect(formatAddress(b.direct.addressOf(b.node.id)), { direct: true });
      if (conn.relayed) throw new Error("the direct dial returned a relayed connection");
      await until(() => a.node.connection(b.node.id)?.relayed === false, 5_000, "a uses the direct connection");
      const ms = performance.now() - started;
      await until(() => b.node.connection(a.node.id)?.relayed === false, 5_000, "b uses the direct connection");
      return ms;
    },
    async stop() {
      await Promise.all([a.node.stop(), b.node.stop()]);
    },
  };
}

/** Sleep `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

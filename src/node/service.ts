/**
 * Node services: subsystems (DHT, pub/sub, RPC, clustering, …) that run
 * inside a node, register their protocols on it, and contribute to its
 * events, status and metrics.
 *
 * @module
 */
import type { KeyPair } from "../identity/ed25519.ts";
import type { NodeId } from "../identity/node-id.ts";
import type { NodeRecord } from "../identity/node-record.ts";
import type { Connection } from "../transport/connection.ts";
import type { CloseInfo } from "../transport/session.ts";
import type { Node } from "./node.ts";
import type { ObservedAddress } from "./observed-addresses.ts";

/** Events a node emits. */
export type NodeEvents = {
  /** A connection to a new peer was established. */
  "peer:connect": [connection: Connection];
  /**
   * A connected peer's signed record arrived (identify); its realms and
   * addresses are known, and `observed` is the address it sees us at (also
   * kept in `node.peerStore.observed`).
   */
  "peer:identify": [record: NodeRecord, connection: Connection, observed: ObservedAddress];
  /** The last connection to a peer closed. */
  "peer:disconnect": [id: NodeId, info: CloseInfo];
  /** Membership: a peer joined the cluster, or came back after being down (suspicion alone is no down). */
  "peer:up": [id: NodeId];
  /** Membership: a peer failed (confirmed dead) or left. */
  "peer:down": [id: NodeId];
};

/** What a service gets from its node. */
export interface ServiceContext {
  /** The node (its public API). */
  node: Node;
  /** The node's identity key, for services that sign records. */
  keyPair: KeyPair;
  /** Emit a node event. */
  emit<K extends keyof NodeEvents>(event: K, ...args: NodeEvents[K]): void;
}

/**
 * A subsystem that runs inside a node.
 *
 * @example
 * ```ts
 * import type { NodeService, ServiceContext } from "./service.ts";
 * class Hello implements NodeService {
 *   readonly name = "hello";
 *   #off?: () => void;
 *   start({ node }: ServiceContext) {
 *     this.#off = node.handle("/example/hello/1", async (s) => await s.closeWrite());
 *   }
 *   stop() {
 *     this.#off?.();
 *   }
 * }
 * ```
 */
export interface NodeService {
  /** Unique name; also the key of its section in `/status`. */
  readonly name: string;
  /** Called once the node listens; register protocols and start timers here. */
  start(context: ServiceContext): void | Promise<void>;
  /** Called when the node stops (in reverse start order). */
  stop(): void | Promise<void>;
  /** A section for `/status`. */
  status?(): Record<string, unknown>;
  /** Extra fields for this peer's entry in `/peers`. */
  peerInfo?(id: NodeId): Record<string, unknown> | undefined;
}

/**
 * The plug-in contract of a node. A service (DHT, pub/sub, RPC, clustering,
 * relay, content, …) runs inside a node and sees it only through a
 * `ServiceHost`: the node's id and realms, connections, protocol handlers,
 * events, peers by id, metrics, a logger, the per-operation authorization
 * hook and `sign(domain, bytes)` — never the key pair. Services that need
 * each other say so with typed `ServiceKey`s; the node starts them in
 * dependency order and hands each one its dependencies through `host.use`.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { NodeRecord } from "../identity/node-record.ts";
import type { Logger } from "../log/logger.ts";
import type { MetricsRegistry } from "../metrics/registry.ts";
import type { PeerAddress } from "../transport/address.ts";
import type { Connection, StreamHandler } from "../transport/connection.ts";
import type { CloseInfo } from "../transport/session.ts";
import type { Authorize, Operation } from "./authorize.ts";
import type { HandleOptions } from "./protocol-registry.ts";
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

/**
 * A typed name of a service, so that services find each other without
 * string look-ups or casts.
 *
 * @example
 * ```ts
 * import { serviceKey } from "./service.ts";
 * interface Clock { now(): number }
 * const CLOCK = serviceKey<Clock & import("./service.ts").NodeService>("clock");
 * CLOCK.name; // "clock"
 * ```
 */
export interface ServiceKey<T extends NodeService> {
  /** The service's unique name (its `NodeService.name`). */
  readonly name: string;
  /** Type carrier only; never set. */
  readonly __service?: T;
}

/** Make the key of the service named `name`. */
export function serviceKey<T extends NodeService>(name: string): ServiceKey<T> {
  return { name };
}

/** What the host knows about a peer. */
export interface PeerInfo {
  /** The peer's id. */
  id: NodeId;
  /** Its latest signed record, once identified or learned. */
  record?: NodeRecord;
  /** Last measured round-trip time, ms. */
  rtt?: number;
  /** Whether a connection to it is open now. */
  connected: boolean;
}

/**
 * Everything a service may use of its node.
 *
 * @example
 * ```ts
 * import type { NodeService, ServiceHost } from "./service.ts";
 * class Uptime implements NodeService {
 *   readonly name = "uptime";
 *   #off?: () => void;
 *   start(host: ServiceHost) {
 *     const started = Date.now();
 *     this.#off = host.handle("/example/uptime/1", async (stream) => {
 *       await stream.writeMessage({ ms: Date.now() - started });
 *       await stream.closeWrite();
 *     });
 *   }
 *   stop() {
 *     this.#off?.();
 *   }
 * }
 * ```
 */
export interface ServiceHost {
  /** The node's id. */
  readonly id: NodeId;
  /** The node's realms; the first is the primary. */
  readonly realms: readonly string[];
  /** The service's logger (tagged with the service name). */
  readonly log: Logger;
  /** The node's metrics registry (Prometheus). */
  readonly metrics: MetricsRegistry;
  /** The node's current signed record. */
  record(): NodeRecord;
  /**
   * Sign `message` for `domain` (e.g. `"dht/provider"`). The signature covers
   * the domain too (see `domainSeparated`), so a service can never produce a
   * signature that the core's handshakes or node records would accept.
   */
  sign(domain: string, message: Uint8Array): Uint8Array;
  /**
   * Connect to a peer by id (its addresses must be known) or reuse the open
   * connection; with `direct: true`, make a direct one even if a relayed one
   * is open (it becomes the one in use; the relayed one retires).
   */
  connect(peer: NodeId, options?: { signal?: AbortSignal; direct?: boolean }): Promise<Connection>;
  /** The open connection to `peer`, if any. */
  connection(peer: NodeId): Connection | undefined;
  /** Ids of the connected peers. */
  peers(): NodeId[];
  /** What the node knows about `peer`. */
  peer(peer: NodeId): PeerInfo | undefined;
  /**
   * Announce `addresses` in the node's record on behalf of this service
   * (e.g. relayed addresses after a reservation, or a public address
   * confirmed by a dial-back), replacing what the service announced
   * before; `[]` withdraws them. The record is re-signed.
   */
  advertise(addresses: readonly PeerAddress[]): void;
  /**
   * Check that `expected` answers at `address`: a FRESH connection through
   * the transport directly (not the connection manager, not an open
   * connection; QUIC dials from a new local port), closed at once.
   * Resolves when the peer proved its id there; rejects with the dial's
   * error (`DialError`, `PeerIdMismatchError`, `TimeoutError`, …).
   * Dial-back checks of reachability use it.
   */
  probe(address: PeerAddress, expected: NodeId, options?: { signal?: AbortSignal; timeout?: number }): Promise<void>;
  /** Remember a verified record of another node (its addresses become dialable). */
  learn(record: NodeRecord): void;
  /** Measure the round-trip time to `peer` in ms (connecting if needed). */
  ping(peer: NodeId, options?: { signal?: AbortSignal }): Promise<number>;
  /** Register a stream handler (default-deny); returns its unregister function. */
  handle(protocol: string, handler: StreamHandler, options?: HandleOptions): () => void;
  /** Listen to node events; returns an unsubscribe function. */
  on<K extends keyof NodeEvents>(event: K, listener: (...args: NodeEvents[K]) => void): () => void;
  /** Emit a node event (membership services report `peer:up` / `peer:down`). */
  emit<K extends keyof NodeEvents>(event: K, ...args: NodeEvents[K]): void;
  /**
   * Decide one operation: the node-wide policy (`NodeOptions.authorize`),
   * then `local` (the handler's own `authorize`), if given. Never throws:
   * a failing hook is a refusal. Synchronous (a boolean) when the hooks are.
   */
  authorize(subject: NodeId, operation: Operation, local?: Authorize): boolean | Promise<boolean>;
  /** A service this one declared in `needs` (started before it). */
  use<T extends NodeService>(key: ServiceKey<T>): T;
}

/**
 * A subsystem that runs inside a node.
 *
 * @example
 * ```ts
 * import type { NodeService, ServiceHost } from "./service.ts";
 * class Hello implements NodeService {
 *   readonly name = "hello";
 *   #off?: () => void;
 *   start(host: ServiceHost) {
 *     this.#off = host.handle("/example/hello/1", async (s) => await s.closeWrite());
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
  /** Services that must run before this one (available through `host.use`). */
  readonly needs?: readonly ServiceKey<NodeService>[];
  /** Called once the node listens; register protocols and start timers here. */
  start(host: ServiceHost): void | Promise<void>;
  /** Called when the node stops (in reverse start order). */
  stop(): void | Promise<void>;
  /** A section for `/status`. */
  status?(): Record<string, unknown>;
  /** Extra fields for this peer's entry in `/peers`. */
  peerInfo?(id: NodeId): Record<string, unknown> | undefined;
  /**
   * A node-wide policy this service adds (a capability gatekeeper): once the
   * service has started, every operation must also pass it, after
   * `NodeOptions.authorize` and before the handler's own hook.
   */
  readonly authorize?: Authorize;
}

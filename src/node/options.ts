/**
 * Options and public shapes of a node: what `Node.start` takes, and what
 * `/status` and `/peers` show.
 *
 * @module
 */
import type { KeyPair } from "../identity/ed25519.ts";
import type { Logger } from "../log/logger.ts";
import type { Platform } from "../platform/types.ts";
import type { MemoryNetwork } from "../transport/memory.ts";
import type { TransportKind } from "../transport/session.ts";
import type { Transport } from "../transport/transport.ts";
import { MaculaError } from "../util/errors.ts";
import type { DhtOptions } from "../dht/dht.ts";
import type { PubSubOptions } from "../pubsub/pubsub.ts";
import type { RpcOptions } from "../rpc/rpc.ts";
import type { ConnectionLimits } from "./connection-manager.ts";
import type { NodeService } from "./service.ts";

/** The default realm. */
export const DEFAULT_REALM = "default";
/** The default port (UDP for QUIC, TCP for TCP + Noise). */
export const DEFAULT_PORT = 9443;

/** Options of `Node.start`. */
export interface NodeOptions {
  /** Use this identity instead of loading one from `dataDir`. */
  keyPair?: KeyPair;
  /** Where the identity lives. Default `.macula`. Ignored with `keyPair`. */
  dataDir?: string;
  /** Listen address. Default `0.0.0.0` (all IPv4 interfaces). */
  host?: string;
  /** Port for QUIC (UDP) and TCP. Default 9443; 0 picks free ports. */
  port?: number;
  /**
   * Links to listen on and dial with: the built-in `"quic"` and `"tcp"`
   * (listening on `host:port`) and `Transport` objects of your own (a
   * `MemoryTransport`, a relay, …), started with the node's context.
   * Default `["quic", "tcp"]` (QUIC only where the runtime has it).
   */
  transports?: Array<"quic" | "tcp" | Transport>;
  /** Also (or only) join an in-process network, for tests and simulations (shorthand for a `MemoryTransport`). */
  memory?: { network: MemoryNetwork; name: string };
  /** Addresses of nodes to keep connected (`quic://…/did:key:…`). */
  seeds?: string[];
  /** Realms this node runs in. Default `["default"]`. */
  realms?: string[];
  /** Free-form roles announced in the node record. */
  roles?: string[];
  /** Connection limits and timeouts. */
  limits?: ConnectionLimits & { maxStreamsPerConnection?: number };
  /** Where logs go. Default: text on stderr. */
  logger?: Logger;
  /** Runtime services (defaults to the running runtime's). */
  platform?: Platform;
  /** Extra subsystems to run inside the node (clustering, …). */
  services?: NodeService[];
  /** Tunables of the DHT. */
  dht?: DhtOptions;
  /** Tunables of pub/sub. */
  pubsub?: PubSubOptions;
  /** Tunables of RPC. */
  rpc?: RpcOptions;
}

/** A connected peer, as `/peers` shows it. */
export interface PeerSummary {
  id: string;
  transport: TransportKind;
  direction: "inbound" | "outbound";
  /** The peer's socket address. */
  address: string;
  /** Round-trip time in ms, if measured. */
  rtt?: number;
  /** When the connection was established (ISO 8601). */
  since: string;
  /** Open streams. */
  streams: number;
  /** The peer's announced addresses. */
  addrs: string[];
  realms: string[];
  /** Fields contributed by services (e.g. membership state). */
  [extra: string]: unknown;
}

/** The node's own status, as `/status` shows it. */
export interface NodeStatus {
  id: string;
  addrs: string[];
  realm: string;
  realms: string[];
  version: string;
  runtime: string;
  uptime: number;
  peers: number;
  /** Addresses peers reported seeing this node at (identify), as `transport://address`, newest first. */
  observedAddrs: string[];
  /** Sections contributed by services, keyed by service name. */
  [service: string]: unknown;
}

/** A handle on something a node exposes; `close()` withdraws it. */
export interface Exposure {
  readonly name: string;
  close(): void;
  [Symbol.dispose](): void;
}

/** Thrown when a link cannot listen (port in use, bad address, …). */
export class ListenError extends MaculaError {
  constructor(message: string, options?: ErrorOptions) {
    super("E_LISTEN", message, options);
  }
}

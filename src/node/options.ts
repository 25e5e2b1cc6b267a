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
import type { ConnectionLimits } from "./connection-manager.ts";
import type { NodeService } from "./service.ts";
import type { Authorize } from "./authorize.ts";

/** The default realm. */
export const DEFAULT_REALM = "default";
/** The default port (UDP for QUIC, TCP for TCP + Noise). */
export const DEFAULT_PORT = 9443;

/**
 * Options of `NodeCore.start`; `Node.start` takes these plus the tunables of
 * the default services. Exported from `mod.ts` as `NodeCoreOptions`.
 */
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
  /**
   * Transports added after `transports` (or after the default ones), e.g.
   * the relay transport, which dials relayed addresses through other links.
   */
  addTransports?: Transport[];
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
  /**
   * Runtime services (sockets, files, process). Default: those of the
   * running runtime (Deno or Node).
   *
   * @internal The `Platform` interface is the runtime boundary of this
   * library, not part of its stable API; tests pass their own to inject
   * faults.
   */
  platform?: Platform;
  /** Extra subsystems to run inside the node (clustering, …). */
  services?: NodeService[];
  /**
   * The node-wide authorization policy: asked for every operation a remote
   * node asks of this one (streams, requests, calls, messages,
   * subscriptions), before the handler's own `authorize`. Default: admit.
   */
  authorize?: Authorize;
}

/** A connected peer, as `/peers` shows it. */
export interface PeerSummary {
  /** The peer's `did:key`. */
  id: string;
  /** The link the connection runs over. */
  transport: TransportKind;
  /** `relayed` when the connection runs through a relay node (see `relay`), else `direct`. */
  route: "direct" | "relayed";
  /** `outbound` if this node dialled, `inbound` if the peer did. */
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
  /** The realms the peer's signed record lists (empty until it identified). */
  realms: string[];
  /** Fields contributed by services (e.g. membership state). */
  [extra: string]: unknown;
}

/** The node's own status, as `/status` shows it. */
export interface NodeStatus {
  /** The node's `did:key`. */
  id: string;
  /** Its dialable addresses (`quic://host:port/did:key:…`). */
  addrs: string[];
  /** Its primary realm (the first of `realms`). */
  realm: string;
  /** Every realm it runs in, the primary first. */
  realms: string[];
  /** The Macula version (`VERSION`). */
  version: string;
  /** The runtime and target it runs on, e.g. `deno 2.9.6 linux-x86_64`. */
  runtime: string;
  /** Seconds since the node started. */
  uptime: number;
  /** Number of connected peers. */
  peers: number;
  /** Addresses peers reported seeing this node at (identify), as `transport://address`, newest first. */
  observedAddrs: string[];
  /** Sections contributed by services, keyed by service name. */
  [service: string]: unknown;
}

/** A handle on something a node exposes; `close()` withdraws it. */
export interface Exposure {
  /** The name the handler is exposed under. */
  readonly name: string;
  /** Withdraw the handler: later requests for `name` are refused. Idempotent. */
  close(): void;
  /** Same as `close()`, for `using`. */
  [Symbol.dispose](): void;
}

/** Thrown when a link cannot listen (port in use, bad address, …). */
export class ListenError extends MaculaError {
  /** Build a listen error (code `E_LISTEN`); `options.cause` keeps the underlying error. */
  constructor(message: string, options?: ErrorOptions) {
    super("E_LISTEN", message, options);
  }
}

/**
 * The interface every link implements for the node. A transport is an
 * object the user constructs (or the node builds from a built-in name) and
 * hands to the node; the node starts it with its context (identity, gate,
 * where inbound connections go), picks it for an address with `canDial`,
 * dials through it, and closes it on stop. Transports are an open set:
 * `kind` is any name matching `[a-z][a-z0-9+.-]*`, which is also the scheme
 * of its direct addresses.
 *
 * @module
 */
import type { KeyPair } from "../identity/ed25519.ts";
import type { NodeId } from "../identity/node-id.ts";
import type { PeerAddress } from "./address.ts";
import type { Connection, ConnectionOptions, InboundGate } from "./connection.ts";
import type { HandshakeRefusal } from "./handshake-gate.ts";
import type { TransportKind } from "./session.ts";

/** What a link needs from the node. */
export interface TransportContext {
  /** The node's identity key. */
  keyPair: KeyPair;
  /** The node's id (the key's public half). */
  localId: NodeId;
  /** Decides what to do with inbound streams (default-deny). */
  gate: InboundGate;
  /** Options for every `Connection` the link creates. */
  connectionOptions?: ConnectionOptions;
  /**
   * Connect to `expected` at `address` through the node (reusing its open
   * connection to that peer). Transports that ride on other nodes use it,
   * e.g. a relay transport reaching the relay. Absent outside a node.
   */
  dial?(address: PeerAddress, expected: NodeId, options?: { signal?: AbortSignal }): Promise<Connection>;
  /** Receives each authenticated inbound connection. */
  onInbound(connection: Connection): void;
  /** Reports inbound handshakes that failed (counted, then dropped). */
  onHandshakeError?(error: Error, remote: string): void;
  /**
   * Reports an inbound handshake refused before authentication: over the
   * global or the per-source cap, or cut off by the handshake deadline
   * (`"deadline"`, also reported to `onHandshakeError`). `remote` is
   * `host:port`, or `"unknown"` (QUIC before TLS completed).
   */
  onHandshakeRefused?(reason: HandshakeRefusal, remote: string, transport: TransportKind): void;
}

/** Options of `Transport.dial`. */
export interface DialOptions {
  /** Cancels the dial. */
  signal?: AbortSignal;
  /** Overall deadline for connect + handshake, ms. */
  timeout?: number;
  /**
   * Dial from a new local port, not the listening one (QUIC; TCP always
   * does): a reachability probe must not ride on a NAT mapping that an
   * existing connection opened. The port is released with the connection.
   */
  fresh?: boolean;
}

/**
 * A link: QUIC, TCP + Noise, in-memory, or one of your own.
 *
 * @example
 * ```ts
 * import type { Transport } from "./transport.ts";
 * import { Node } from "../../mod.ts";
 * declare const mine: Transport; // e.g. a transport over some other byte pipe
 * await using node = await Node.start({ dataDir: ".macula", port: 0, transports: ["tcp", mine] });
 * ```
 */
export interface Transport {
  /** The transport's name, the scheme of the addresses it listens on. */
  readonly kind: TransportKind;
  /** Where we listen (host may be a wildcard), once started. */
  readonly listenAddresses: PeerAddress[];
  /**
   * Start: keep `ctx` (the node's identity, gate and inbound sink) and
   * listen. Idempotent for the same context.
   */
  start(ctx: TransportContext): Promise<void>;
  /** Can this transport dial `address`? (The node picks the first transport that can.) */
  canDial(address: PeerAddress): boolean;
  /**
   * Connect to `address` and prove the peer is `expected`. Rejects with
   * `DialError`, `PeerIdMismatchError`, `HandshakeError`, `TimeoutError`
   * or `AbortedError`. Only after `start()`.
   */
  dial(address: PeerAddress, expected: NodeId, options?: DialOptions): Promise<Connection>;
  /** Stop listening and close every connection this link made. */
  close(): Promise<void>;
}

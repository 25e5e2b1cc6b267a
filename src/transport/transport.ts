/**
 * The interface every link implements for the node: listen, dial an
 * address expecting a node id, and hand over authenticated connections.
 *
 * @module
 */
import type { KeyPair } from "../identity/ed25519.ts";
import type { NodeId } from "../identity/node-id.ts";
import type { PeerAddress } from "./address.ts";
import type { Connection, ConnectionOptions, InboundGate } from "./connection.ts";
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
  /** Receives each authenticated inbound connection. */
  onInbound(connection: Connection): void;
  /** Reports inbound handshakes that failed (counted, then dropped). */
  onHandshakeError?(error: Error, remote: string): void;
}

/** Options of `Transport.dial`. */
export interface DialOptions {
  signal?: AbortSignal;
  /** Overall deadline for connect + handshake, ms. */
  timeout?: number;
}

/** A link: QUIC, TCP + Noise or in-memory. */
export interface Transport {
  readonly kind: TransportKind;
  /** Where we listen (host may be a wildcard), after `listen()`. */
  readonly listenAddresses: PeerAddress[];
  /** Start listening. */
  listen(): Promise<void>;
  /**
   * Connect to `address` and prove the peer is `expected`. Rejects with
   * `DialError`, `PeerIdMismatchError`, `HandshakeError`, `TimeoutError`
   * or `AbortedError`.
   */
  dial(address: PeerAddress, expected: NodeId, options?: DialOptions): Promise<Connection>;
  /** Stop listening and close every connection this link made. */
  close(): Promise<void>;
}

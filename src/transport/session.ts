/**
 * The contract between a link (QUIC, TCP + Noise, memory) and `Connection`:
 * an authenticated, encrypted, multiplexed session with a proven remote id.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { ByteStream } from "./stream.ts";

/**
 * The name of a transport (and the scheme of its addresses): an open set of
 * names matching `[a-z][a-z0-9+.-]*`. Built in are `"quic"`, `"tcp"` and
 * `"memory"` (see `BUILTIN_TRANSPORTS`).
 */
export type TransportKind = string;

/** The names of the built-in transports. */
export const BUILTIN_TRANSPORTS = { quic: "quic", tcp: "tcp", memory: "memory" } as const;

/** Whether a connection runs straight over a link, or through a relay node. */
export type Route = "direct" | "relayed";

/** Who dialed. */
export type Direction = "inbound" | "outbound";

/** Why a session or connection ended. */
export interface CloseInfo {
  /** Human-readable reason. */
  reason: string;
  /** True when this side closed it. */
  local: boolean;
  /** The error that ended it, if any. */
  error?: Error;
}

/** An authenticated multiplexed session produced by a link. */
export interface Session {
  /** The transport that carries it. */
  readonly kind: TransportKind;
  /** This node's id. */
  readonly localId: NodeId;
  /** Proven by the link's handshake. */
  readonly remoteId: NodeId;
  /** Who dialed. */
  readonly direction: Direction;
  /** `"relayed"` when the session runs through a relay node (end to end), else `"direct"`. */
  readonly route: Route;
  /** The remote socket address, for display (`host:port`). */
  readonly remoteAddress: string;
  /** Open a new outgoing stream. */
  openStream(): Promise<ByteStream>;
  /**
   * Set the receiver of streams the peer opens. Called once; streams that
   * arrive earlier are held until then.
   */
  onStream(handler: (stream: ByteStream) => void): void;
  /** Close the session and every stream on it. Idempotent. */
  close(reason?: string, error?: Error): void;
  /** Resolves (never rejects) when the session has ended. */
  readonly closed: Promise<CloseInfo>;
}

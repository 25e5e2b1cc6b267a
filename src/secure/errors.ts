/**
 * Typed errors of the secure layer: a failed handshake, a peer proving the
 * wrong identity, a closed channel. They live here (below `transport/`) so
 * that `secure/` does not import upward; `transport/errors.ts` re-exports
 * them under the same names.
 *
 * @module
 */
import { MaculaError } from "../util/errors.ts";

/** The peer proved a different identity than the one we dialed, or none. */
export class PeerIdMismatchError extends MaculaError {
  /** `message` names the expected and the proven identity. */
  constructor(message: string, options?: ErrorOptions) {
    super("E_PEER_ID_MISMATCH", message, options);
  }
}

/** The authenticated handshake failed (bad signature, bad message, timeout). */
export class HandshakeError extends MaculaError {
  /** `message` says which step failed. */
  constructor(message: string, options?: ErrorOptions) {
    super("E_HANDSHAKE_FAILED", message, options);
  }
}

/** The connection (or secure channel) is closed. */
export class ConnectionClosedError extends MaculaError {
  /** `message` says why, when known. */
  constructor(message = "connection is closed") {
    super("E_CONNECTION_CLOSED", message);
  }
}

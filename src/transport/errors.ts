/**
 * Typed errors of links and connections.
 *
 * @module
 */
import { MaculaError } from "../util/errors.ts";

/** Dialing failed: unreachable, refused, timed out, or no usable address. */
export class DialError extends MaculaError {
  constructor(message: string, options?: ErrorOptions) {
    super("E_DIAL_FAILED", message, options);
  }
}

/** The peer proved a different identity than the one we dialed, or none. */
export class PeerIdMismatchError extends MaculaError {
  constructor(message: string, options?: ErrorOptions) {
    super("E_PEER_ID_MISMATCH", message, options);
  }
}

/** The authenticated handshake failed (bad signature, bad message, timeout). */
export class HandshakeError extends MaculaError {
  constructor(message: string, options?: ErrorOptions) {
    super("E_HANDSHAKE_FAILED", message, options);
  }
}

/** The peer refused to open a stream for a protocol (unknown or not authorised). */
export class ProtocolRefusedError extends MaculaError {
  constructor(readonly protocol: string, readonly peer: string) {
    super("E_PROTOCOL_REFUSED", `peer ${peer} refused protocol ${protocol} (not exposed to us, or unknown)`);
  }
}

/** Too many streams or connections. */
export class LimitError extends MaculaError {
  constructor(message: string) {
    super("E_LIMIT", message);
  }
}

/** The connection is closed. */
export class ConnectionClosedError extends MaculaError {
  constructor(message = "connection is closed") {
    super("E_CONNECTION_CLOSED", message);
  }
}

/** An address string could not be parsed. */
export class AddressError extends MaculaError {
  constructor(message: string) {
    super("E_ADDRESS_INVALID", message);
  }
}

/**
 * Typed errors of links and connections.
 *
 * @module
 */
import { MaculaError } from "../util/errors.ts";

export { ConnectionClosedError, HandshakeError, PeerIdMismatchError } from "../secure/errors.ts";

/** Dialing failed: unreachable, refused, timed out, or no usable address. */
export class DialError extends MaculaError {
  /** `message` names the peer or address and why it failed. */
  constructor(message: string, options?: ErrorOptions) {
    super("E_DIAL_FAILED", message, options);
  }
}

/** The peer refused to open a stream for a protocol (unknown or not authorised). */
export class ProtocolRefusedError extends MaculaError {
  /** `protocol` was refused by `peer` (a short id). */
  constructor(readonly protocol: string, readonly peer: string) {
    super("E_PROTOCOL_REFUSED", `peer ${peer} refused protocol ${protocol} (not exposed to us, or unknown)`);
  }
}

/** Too many streams or connections. */
export class LimitError extends MaculaError {
  /** `message` says which limit and its value. */
  constructor(message: string) {
    super("E_LIMIT", message);
  }
}

/** An address string could not be parsed. */
export class AddressError extends MaculaError {
  /** `message` says what is wrong with the address. */
  constructor(message: string) {
    super("E_ADDRESS_INVALID", message);
  }
}

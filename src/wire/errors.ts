/**
 * `WireError`: every decoding failure of bytes that came from the network.
 *
 * @module
 */
import { MaculaError } from "../util/errors.ts";

/** Stable codes of `WireError`. */
export type WireErrorCode =
  | "E_WIRE_TRUNCATED"
  | "E_WIRE_OVERSIZED"
  | "E_WIRE_MALFORMED"
  | "E_WIRE_INVALID";

/**
 * Bad input from the network: truncated, oversized, malformed or invalid.
 * `messageType` names the decoder that rejected it.
 *
 * @example
 * ```ts
 * import { WireError } from "./errors.ts";
 * const err = new WireError("E_WIRE_INVALID", "ping", "payload must be 32 bytes");
 * err.message; // "invalid ping: payload must be 32 bytes"
 * ```
 */
export class WireError extends MaculaError {
  /** Which message type (decoder) rejected the input. */
  readonly messageType: string;

  /** `code` says what is wrong, `messageType` names the message, `detail` the field and why. */
  constructor(code: WireErrorCode, messageType: string, detail: string, options?: ErrorOptions) {
    const what = {
      E_WIRE_TRUNCATED: "truncated",
      E_WIRE_OVERSIZED: "oversized",
      E_WIRE_MALFORMED: "malformed",
      E_WIRE_INVALID: "invalid",
    }[code];
    super(code, `${what} ${messageType}: ${detail}`, options);
    this.messageType = messageType;
  }
}

/**
 * Errors of rings.
 *
 * @module
 */
import { MaculaError } from "../util/errors.ts";

/** Codes of `RingError`. */
export type RingErrorCode =
  /** A bad ring name. */
  | "E_RING_NAME"
  /** The id is not a member of the ring (no presence seen, or expired). */
  | "E_RING_NOT_MEMBER"
  /** The member has no WebRTC connection now (ring messages are never relayed). */
  | "E_RING_NO_PATH"
  /** The ring was left. */
  | "E_RING_LEFT"
  /** A message over the size limit. */
  | "E_RING_OVERSIZED";

/**
 * A ring operation failed.
 *
 * @example
 * ```ts
 * import { RingError } from "./errors.ts";
 * const e = new RingError("E_RING_NO_PATH", "no WebRTC connection to did:key:z6Mk…");
 * e.code; // "E_RING_NO_PATH"
 * ```
 */
export class RingError extends MaculaError {
  /** Build the error with its stable `code`. */
  constructor(code: RingErrorCode, message: string) {
    super(code, message);
  }
}

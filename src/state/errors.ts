/**
 * Typed errors of replicated state.
 *
 * @module
 */
import { MaculaError } from "../util/errors.ts";

/**
 * A malformed or oversized `/macula/state/1` message, or a bad state name,
 * key or value (`E_STATE_MESSAGE`, `E_STATE_NAME`, `E_STATE_KEY`,
 * `E_STATE_VALUE`; `E_STATE_REALM` for a realm the node is not in).
 *
 * @example
 * ```ts
 * import { StateError } from "./errors.ts";
 * const e = new StateError("E_STATE_KEY", "a key is 1 to 256 bytes");
 * e.code; // "E_STATE_KEY"
 * ```
 */
export class StateError extends MaculaError {
  /** An error with stable `code` and a human `message`. */
  constructor(
    code: "E_STATE_MESSAGE" | "E_STATE_NAME" | "E_STATE_REALM" | "E_STATE_KEY" | "E_STATE_VALUE",
    message: string,
  ) {
    super(code, message);
  }
}

/**
 * Typed errors of reachability and NAT traversal.
 *
 * @module
 */
import { MaculaError } from "../util/errors.ts";

/**
 * Why a node refused to dial another back:
 *
 * - `address`: an address is not on the requester's own IP (of the
 *   connection it asked on), or is not a `quic`/`tcp` address;
 * - `rate`: the requester asked too often, or the node is doing as many
 *   dial-backs as it allows at once;
 * - `relayed`: the request came over a relayed connection (its IP is the
 *   relay's, not the requester's).
 */
export type DialbackRefusal = "address" | "rate" | "relayed";

/**
 * A peer refused to dial us back (or we refused to dial one back), with
 * the reason.
 *
 * @example
 * ```ts
 * import { DialbackRefusedError } from "./errors.ts";
 * const e = new DialbackRefusedError("rate", "asked too often");
 * console.log(e.code, e.reason); // "E_DIALBACK_REFUSED" "rate"
 * ```
 */
export class DialbackRefusedError extends MaculaError {
  /** Why. */
  readonly reason: DialbackRefusal;

  /** A refusal for `reason`, explained by `message`. */
  constructor(reason: DialbackRefusal, message: string) {
    super("E_DIALBACK_REFUSED", message);
    this.reason = reason;
  }
}

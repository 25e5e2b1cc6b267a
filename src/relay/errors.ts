/**
 * Typed errors of the relay: a refusal with its reason code, at the dialer
 * or the reserving node.
 *
 * @module
 */
import { MaculaError } from "../util/errors.ts";

/**
 * Why a relay (or the target behind it) refused a reservation or a circuit.
 * `relay-disabled`: the node does not serve as a relay; `not-in-realm`: the
 * asking node shares no realm the relay admits; `reservation-limit`,
 * `circuit-limit`: an operator limit is reached; `no-reservation`: the
 * target holds no reservation here (and no peered relay was named or
 * reachable); `hop-limit`: more than one inter-relay hop was asked;
 * `target-refused`: the target did not accept the circuit; `bad-request`: a
 * malformed or out-of-place message.
 */
export type RefusalReason =
  | "relay-disabled"
  | "not-in-realm"
  | "reservation-limit"
  | "circuit-limit"
  | "no-reservation"
  | "hop-limit"
  | "target-refused"
  | "bad-request"
  | (string & { readonly __other?: never });

/**
 * A relay refused a reservation or a circuit; `reason` says why.
 *
 * @example
 * ```ts
 * import { RelayRefusedError } from "./errors.ts";
 * try {
 *   throw new RelayRefusedError("circuit-limit", "relay has 512 circuits open");
 * } catch (e) {
 *   if (e instanceof RelayRefusedError && e.reason === "circuit-limit") console.log("try later");
 * }
 * ```
 */
export class RelayRefusedError extends MaculaError {
  /** The refusal reason code (see `RefusalReason`). */
  readonly reason: RefusalReason;

  /** Build a refusal (code `E_RELAY_REFUSED`) with `reason` and a human `message`. */
  constructor(reason: RefusalReason, message?: string, options?: ErrorOptions) {
    super("E_RELAY_REFUSED", message ? `relay refused (${reason}): ${message}` : `relay refused: ${reason}`, options);
    this.reason = reason;
  }
}

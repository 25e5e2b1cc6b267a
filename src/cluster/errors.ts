/**
 * Typed errors of clustering: why a datagram was dropped, and cluster
 * configuration or runtime failures.
 *
 * @module
 */
import { MaculaError } from "../util/errors.ts";

/**
 * Why a cluster datagram was dropped. Each is counted in
 * `macula_cluster_dropped_datagrams_total{reason}`.
 *
 * - `malformed`: too short or long, wrong magic/version, or a body that does not decode.
 * - `missing_mac`: this node has a cluster secret and the datagram carries no MAC.
 * - `bad_mac`: the MAC does not verify (another secret, or tampering).
 * - `unexpected_mac`: this node has no secret and the datagram carries a MAC (a secret cluster's traffic).
 * - `stale`: the sender's boot epoch was replaced by a newer one (a datagram of an earlier run).
 * - `replay`: this sender's counter was seen before, or is too far behind its newest one.
 * - `bad_signature`: the sender's Ed25519 signature does not verify.
 * - `mismatch`: authentic, but inconsistent (record or token of another node, a record that expired
 *   by its own account, an incarnation beyond the allowed bounds).
 * - `limit`: a new member while the member table is full.
 */
export type DropReason =
  | "malformed"
  | "missing_mac"
  | "bad_mac"
  | "unexpected_mac"
  | "stale"
  | "replay"
  | "bad_signature"
  | "mismatch"
  | "limit";

/** Every drop reason, in a stable order (for metrics and status). */
export const DROP_REASONS: readonly DropReason[] = [
  "malformed",
  "missing_mac",
  "bad_mac",
  "unexpected_mac",
  "stale",
  "replay",
  "bad_signature",
  "mismatch",
  "limit",
];

/**
 * A datagram that must be dropped, with the reason.
 *
 * @example
 * ```ts
 * import { DatagramDropError } from "./errors.ts";
 * const e = new DatagramDropError("replay", "nonce seen before");
 * e.reason; // "replay"
 * e.code;   // "E_CLUSTER_DROP"
 * ```
 */
export class DatagramDropError extends MaculaError {
  /** Why it was dropped. */
  readonly reason: DropReason;

  /** Build the error (code `E_CLUSTER_DROP`) for a datagram dropped for `reason`; `detail` says more. */
  constructor(reason: DropReason, detail: string, options?: ErrorOptions) {
    super("E_CLUSTER_DROP", `dropped cluster datagram (${reason}): ${detail}`, options);
    this.reason = reason;
  }
}

/**
 * Clustering cannot run as configured (no UDP on this runtime, no usable
 * interface, a port in use, …).
 *
 * @example
 * ```ts
 * import { ClusterError } from "./errors.ts";
 * throw new ClusterError("UDP is not available on this runtime");
 * ```
 */
export class ClusterError extends MaculaError {
  /** Build the error (code `E_CLUSTER`); `options.cause` keeps the underlying error. */
  constructor(message: string, options?: ErrorOptions) {
    super("E_CLUSTER", message, options);
  }
}

/**
 * The typed errors of the gatekeeper: an app refused at admission
 * (`AdmissionError`, naming the failed step) and an operation of an admitted
 * app refused (`OperationRefusedError`, with the reason).
 *
 * @module
 */
import { NotAuthorizedError } from "../node/authorize.ts";
import { MaculaError } from "../util/errors.ts";

/** The admission step that failed. */
export type AdmissionStep =
  /** Not every one of the eight `MeshApp` callbacks is a function. */
  | "missing_callbacks"
  /** `meshIdentity()` is not a reverse-domain name of at least three segments. */
  | "invalid_identity"
  /** The proof does not come from the owner of a namespace containing the identity. */
  | "not_namespace_owner"
  /** An unknown or duplicate capability, or one the proof does not cover. */
  | "invalid_capability"
  /** A topic, procedure or content type that is malformed or outside the app's namespace. */
  | "invalid_api_entries"
  /** `meshHealth()` did not answer `true` in time. */
  | "unhealthy"
  /** An app with this identity is already admitted on this node. */
  | "already_admitted"
  /** The proof chain is malformed, badly signed, expired, revoked, or not addressed to the app's key. */
  | "invalid_proof";

/**
 * An app refused at admission: `step` names the failed step of the
 * pipeline, `details` says what exactly (the missing callbacks, the
 * offending entries, the UCAN error, …).
 *
 * @example
 * ```ts
 * import { AdmissionError } from "./errors.ts";
 * const e = new AdmissionError("missing_callbacks", "the app lacks meshHealth", ["meshHealth"]);
 * e.step; // "missing_callbacks"
 * e.code; // "E_APP_ADMISSION"
 * ```
 */
export class AdmissionError extends MaculaError {
  /** The step of the pipeline that failed. */
  readonly step: AdmissionStep;
  /** What failed, in a form a program can read (see each step). */
  readonly details?: unknown;

  /** `step`, a human `message`, optional `details` and `cause` (e.g. the UCAN error). */
  constructor(step: AdmissionStep, message: string, details?: unknown, options?: ErrorOptions) {
    super("E_APP_ADMISSION", `app refused (${step}): ${message}`, options);
    this.step = step;
    this.details = details;
  }
}

/** Why an operation of an admitted app was refused. */
export type OperationRefusalReason =
  /** The app did not declare the capability the operation needs. */
  | "capability_not_declared"
  /** The topic, procedure or content type is not in the app's declared API. */
  | "resource_not_declared"
  /** The app's proof chain does not cover the operation (or it expired or was revoked). */
  | "not_covered"
  /** The app failed its last health check. */
  | "unhealthy";

/**
 * An operation of an admitted app refused by the gatekeeper at its own node.
 * Its code is `E_NOT_AUTHORIZED`, like every refusal; `reason` tells them apart.
 *
 * @example
 * ```ts
 * import { OperationRefusedError } from "./errors.ts";
 * const e = new OperationRefusedError("capability_not_declared", "publish", "io.acme.plant3.temp", "no publish");
 * e.reason; // "capability_not_declared"
 * ```
 */
export class OperationRefusedError extends NotAuthorizedError {
  /** Why it was refused. */
  readonly reason: OperationRefusalReason;
  /** The operation refused (an app capability). */
  readonly operation: string;
  /** What it was on: topic, pattern, procedure or content type. */
  readonly resource: string;

  /** `reason`, the operation and its resource, and a human `message`. */
  constructor(reason: OperationRefusalReason, operation: string, resource: string, message: string) {
    super(`${operation} ${JSON.stringify(resource)} refused (${reason}): ${message}`);
    this.reason = reason;
    this.operation = operation;
    this.resource = resource;
  }
}

/**
 * Typed errors of the UCAN library. Every failure to decode, validate or
 * authorize a token is a `UcanError`; its `name` is the error name the UCAN
 * specification's fixtures use where one applies (`InvalidClaim`,
 * `UnavailableProof`, `Expired`, `TooEarly`, `InvalidAudience`,
 * `InvalidSubject`, `InvalidSignature`, `MatchError`), and its `code` is a
 * stable `E_UCAN_…` string.
 *
 * @module
 */
import { MaculaError } from "../util/errors.ts";

/**
 * Base class of every UCAN error.
 *
 * @example
 * ```ts
 * import { UcanError } from "./errors.ts";
 * import { decodeToken } from "./token.ts";
 * try {
 *   decodeToken(new Uint8Array([1, 2, 3]));
 * } catch (e) {
 *   if (e instanceof UcanError) console.log(e.name, e.code); // MalformedToken E_UCAN_MALFORMED
 * }
 * ```
 */
export class UcanError extends MaculaError {
  /** An error with a stable `code`, the spec's error `name` and a human `message`. */
  constructor(code: string, name: string, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = name;
  }
}

/** A claim of the token cannot hold: no proof for a delegated subject, `sub: null` at the root, … */
export class InvalidClaimError extends UcanError {
  /** `message` says which claim. */
  constructor(message: string) {
    super("E_UCAN_INVALID_CLAIM", "InvalidClaim", message);
  }
}

/** A proof named by an invocation (by CID) was not supplied. */
export class UnavailableProofError extends UcanError {
  /** The CID of the missing proof. */
  readonly cid: string;
  /** `cid` is the missing proof's CID. */
  constructor(cid: string) {
    super("E_UCAN_UNAVAILABLE_PROOF", "UnavailableProof", `proof ${cid} is not available`);
    this.cid = cid;
  }
}

/** A token is past its `exp` (plus the allowed clock skew). */
export class ExpiredError extends UcanError {
  /** `message` names the token and its expiry. */
  constructor(message: string) {
    super("E_UCAN_EXPIRED", "Expired", message);
  }
}

/** A token is before its `nbf` (minus the allowed clock skew). */
export class TooEarlyError extends UcanError {
  /** `message` names the token and its start. */
  constructor(message: string) {
    super("E_UCAN_TOO_EARLY", "TooEarly", message);
  }
}

/** Principals do not line up: a link's `aud` is not the next `iss`, or the last `aud` is not the invoker. */
export class InvalidAudienceError extends UcanError {
  /** `message` names the two principals that differ. */
  constructor(message: string) {
    super("E_UCAN_INVALID_AUDIENCE", "InvalidAudience", message);
  }
}

/** Subjects do not line up, or the chain's subject is not an accepted root. */
export class InvalidSubjectError extends UcanError {
  /** `message` names the subjects involved. */
  constructor(message: string) {
    super("E_UCAN_INVALID_SUBJECT", "InvalidSubject", message);
  }
}

/** A token's signature does not verify against its issuer's key. */
export class InvalidSignatureError extends UcanError {
  /** `message` names the issuer. */
  constructor(message: string) {
    super("E_UCAN_INVALID_SIGNATURE", "InvalidSignature", message);
  }
}

/** The chain's commands or policies do not cover the operation. */
export class MatchError extends UcanError {
  /** `message` explains which link does not cover what. */
  constructor(message: string) {
    super("E_UCAN_MATCH", "MatchError", message);
  }
}

/** Bytes that are not a well-formed UCAN token (CBOR, envelope, field types, sizes). */
export class MalformedTokenError extends UcanError {
  /** `message` says what is wrong. */
  constructor(message: string, options?: ErrorOptions) {
    super("E_UCAN_MALFORMED", "MalformedToken", message, options);
  }
}

/** A policy that is not valid in the UCAN 1.0 policy language (or exceeds its bounds). */
export class InvalidPolicyError extends UcanError {
  /** `message` says which statement or selector is wrong. */
  constructor(message: string) {
    super("E_UCAN_INVALID_POLICY", "InvalidPolicy", message);
  }
}

/** A command that is not `/`-rooted lowercase segments. */
export class InvalidCommandError extends UcanError {
  /** `message` names the command. */
  constructor(message: string) {
    super("E_UCAN_INVALID_COMMAND", "InvalidCommand", message);
  }
}

/** A link of the chain has been revoked. */
export class RevokedError extends UcanError {
  /** The CID of the revoked delegation. */
  readonly cid: string;
  /** `cid` is the revoked delegation's CID. */
  constructor(cid: string) {
    super("E_UCAN_REVOKED", "Revoked", `delegation ${cid} has been revoked`);
    this.cid = cid;
  }
}

/** Text that is not a UCAN container this library reads. */
export class InvalidContainerError extends UcanError {
  /** `message` says what is wrong. */
  constructor(message: string, options?: ErrorOptions) {
    super("E_UCAN_INVALID_CONTAINER", "InvalidContainer", message, options);
  }
}

/** An invocation that is not a well-formed revocation (`/ucan/revoke` of a CID by its own subject). */
export class InvalidRevocationError extends UcanError {
  /** `message` says what is wrong. */
  constructor(message: string) {
    super("E_UCAN_INVALID_REVOCATION", "InvalidRevocation", message);
  }
}

/**
 * A token with time bounds (`nbf` or a non-null `exp`) checked without a
 * trustworthy clock: only tokens without time bounds are accepted then.
 */
export class NoClockError extends UcanError {
  /** `message` names the token. */
  constructor(message: string) {
    super("E_UCAN_NO_CLOCK", "NoClock", message);
  }
}

/**
 * Run `decode`, turning any failure that is not a `UcanError` (a stack
 * overflow on pathologically nested input, say) into a `MalformedTokenError`.
 */
export function guardDecode<T>(decode: () => T): T {
  try {
    return decode();
  } catch (e) {
    if (e instanceof UcanError) throw e;
    throw new MalformedTokenError(`token could not be decoded: ${(e as Error)?.message ?? e}`, { cause: e });
  }
}

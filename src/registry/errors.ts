/**
 * The typed errors of the artifact registry. Every refusal of a release
 * (malformed, badly signed, not authorized, content not matching) is a
 * `RegistryError` with a stable code.
 *
 * @module
 */
import { MaculaError } from "../util/errors.ts";

/** Base class of registry errors. */
export class RegistryError extends MaculaError {}

/**
 * A release record that does not decode or has an invalid field
 * (`E_RELEASE_INVALID`).
 *
 * @example
 * ```ts
 * import { InvalidReleaseError } from "./errors.ts";
 * new InvalidReleaseError("version: not semver").code; // "E_RELEASE_INVALID"
 * ```
 */
export class InvalidReleaseError extends RegistryError {
  /** `message` says which field and why. */
  constructor(message: string, options?: ErrorOptions) {
    super("E_RELEASE_INVALID", `invalid release record: ${message}`, options);
  }
}

/** A release whose signature does not verify: tampered or unsigned (`E_RELEASE_SIGNATURE`). */
export class ReleaseSignatureError extends RegistryError {
  /** `message` names the release. */
  constructor(message: string) {
    super("E_RELEASE_SIGNATURE", message);
  }
}

/**
 * A release whose issuer is not shown to own the namespace of its name: no
 * chain where one is required, a chain that does not verify, is not rooted
 * at the realm's authorities, or does not cover `/macula/registry/publish`
 * on the name; or an issuer that is not trusted (`E_RELEASE_UNAUTHORIZED`).
 */
export class ReleaseUnauthorizedError extends RegistryError {
  /** `message` says what is missing; `cause` keeps the chain error. */
  constructor(message: string, options?: ErrorOptions) {
    super("E_RELEASE_UNAUTHORIZED", message, options);
  }
}

/** No release of that name (and version, and arch) was found (`E_RELEASE_NOT_FOUND`). */
export class ReleaseNotFoundError extends RegistryError {
  /** `message` names what was looked for. */
  constructor(message: string) {
    super("E_RELEASE_NOT_FOUND", message);
  }
}

/** The fetched artifact does not match the release's content id or size (`E_RELEASE_CONTENT`). */
export class ArtifactMismatchError extends RegistryError {
  /** `message` says what differs. */
  constructor(message: string) {
    super("E_RELEASE_CONTENT", message);
  }
}

/** Installing failed (the target directory cannot be written, …) (`E_RELEASE_INSTALL`). */
export class InstallError extends RegistryError {
  /** `message` names the path; `cause` keeps the file error. */
  constructor(message: string, options?: ErrorOptions) {
    super("E_RELEASE_INSTALL", message, options);
  }
}

/**
 * Typed errors of the content service.
 *
 * @module
 */
import { MaculaError } from "../util/errors.ts";

/** A content id that does not parse (bad multibase, version, codec, size or length). */
export class InvalidMcidError extends MaculaError {
  /** `message` says what is wrong with the text or bytes given. */
  constructor(message: string) {
    super("E_CONTENT_MCID", message);
  }
}

/** A name to publish content under (`PublishOptions.name`) that is not a dotted name, or one name too many. */
export class InvalidContentNameError extends MaculaError {
  /** `message` says what is wrong with the name. */
  constructor(message: string) {
    super("E_CONTENT_NAME", message);
  }
}

/** Bytes that do not match their content id (a lying provider, a corrupt file). */
export class ContentVerificationError extends MaculaError {
  /** `message` names the content and the group. */
  constructor(message: string) {
    super("E_CONTENT_VERIFY", message);
  }
}

/** Content that is neither here nor at any reachable provider. */
export class ContentNotFoundError extends MaculaError {
  /** `mcid` is the text form of the content id; `code` is for `ContentDeniedError`. */
  constructor(
    readonly mcid: string,
    detail = "no provider has it",
    code: "E_CONTENT_NOT_FOUND" | "E_CONTENT_DENIED" = "E_CONTENT_NOT_FOUND",
  ) {
    super(code, `content ${mcid} not found: ${detail}`);
  }
}

/**
 * Every provider of the content refused this node (their authorization
 * policy, e.g. a closed realm where this node holds no capability for it).
 * A `ContentNotFoundError` too, with code `E_CONTENT_DENIED`.
 */
export class ContentDeniedError extends ContentNotFoundError {
  /** `providers` is how many refused. */
  constructor(mcid: string, readonly providers: number) {
    super(
      mcid,
      `not authorized: ${providers === 1 ? "its provider refused" : `all ${providers} providers refused`} this node`,
      "E_CONTENT_DENIED",
    );
  }
}

/** The store cannot take the content within its quota (pinned content is never evicted). */
export class QuotaExceededError extends MaculaError {
  /** `needed` and `quota` are in bytes. */
  constructor(readonly needed: number, readonly quota: number) {
    super("E_CONTENT_QUOTA", `content store quota exceeded: ${needed} bytes needed, quota ${quota} bytes`);
  }
}

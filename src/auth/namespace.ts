/**
 * DID namespaces. A namespace is a dotted name of at least three segments
 * (`io.acme.plant3`), named `did:macula:io.acme.plant3`. Its owner is a
 * `did:key` holding a delegation for it, from a realm authority or from the
 * owner of a parent namespace; the owner of `io.acme` controls
 * `io.acme.*`. Matching is on whole segments: `io.acme.user` never matches
 * `io.acme.username`. A `public` segment (`io.acme.plant3.public.temp`)
 * marks a topic any realm member may subscribe to.
 *
 * @module
 */
import { MaculaError } from "../util/errors.ts";

/** Fewest segments in a namespace or an app identity. */
export const MIN_NAMESPACE_SEGMENTS = 3;
/** Longest namespace. */
export const MAX_NAMESPACE_LENGTH = 255;
/** The DID method prefix of namespaces. */
export const NAMESPACE_DID_PREFIX = "did:macula:";

const SEGMENT = /^[a-z0-9](?:[a-z0-9_-]{0,62})$/;

/** Why a name is not a valid namespace. */
export type NamespaceErrorReason =
  /** Not a string, empty, or longer than `MAX_NAMESPACE_LENGTH`. */
  | "invalid_format"
  /** Fewer than `MIN_NAMESPACE_SEGMENTS` segments. */
  | "insufficient_segments"
  /** A segment that is not 1-63 of `a-z 0-9 _ -` starting with a letter or digit. */
  | "invalid_segment"
  /** A `did:macula:` name expected, something else given. */
  | "invalid_did";

/** A malformed namespace or namespace DID. */
export class NamespaceError extends MaculaError {
  /** Why the name was refused. */
  readonly reason: NamespaceErrorReason;
  /** `reason` and a message naming the name. */
  constructor(reason: NamespaceErrorReason, message: string) {
    super("E_NAMESPACE_INVALID", message);
    this.reason = reason;
  }
}

/**
 * Throw `NamespaceError` unless `name` is a valid namespace: at least
 * `MIN_NAMESPACE_SEGMENTS` dot-separated segments of lowercase `a-z 0-9 _ -`.
 *
 * @example
 * ```ts
 * import { validateNamespace } from "./namespace.ts";
 * validateNamespace("io.acme.plant3"); // ok
 * // validateNamespace("io.acme") throws NamespaceError (insufficient_segments)
 * ```
 */
export function validateNamespace(name: string): void {
  if (typeof name !== "string" || name.length === 0 || name.length > MAX_NAMESPACE_LENGTH) {
    throw new NamespaceError("invalid_format", `a namespace is 1-${MAX_NAMESPACE_LENGTH} characters`);
  }
  const parts = name.split(".");
  for (const part of parts) {
    if (!SEGMENT.test(part)) {
      throw new NamespaceError(
        "invalid_segment",
        `invalid namespace ${JSON.stringify(name)}: segment ${
          JSON.stringify(part)
        } is not 1-63 of a-z 0-9 _ - starting with a letter or digit`,
      );
    }
  }
  if (parts.length < MIN_NAMESPACE_SEGMENTS) {
    throw new NamespaceError(
      "insufficient_segments",
      `invalid namespace ${JSON.stringify(name)}: at least ${MIN_NAMESPACE_SEGMENTS} segments (e.g. io.acme.plant3)`,
    );
  }
}

/** Whether `name` is a valid namespace. */
export function isNamespace(name: string): boolean {
  try {
    validateNamespace(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * The DID of namespace `ns`: `did:macula:<ns>`.
 *
 * @example
 * ```ts
 * import { namespaceDid } from "./namespace.ts";
 * namespaceDid("io.acme.plant3"); // "did:macula:io.acme.plant3"
 * ```
 */
export function namespaceDid(ns: string): string {
  validateNamespace(ns);
  return NAMESPACE_DID_PREFIX + ns;
}

/**
 * The namespace named by `did` (`did:macula:io.acme.plant3` →
 * `io.acme.plant3`); throws `NamespaceError` for anything else.
 */
export function parseNamespaceDid(did: string): string {
  if (typeof did !== "string" || !did.startsWith(NAMESPACE_DID_PREFIX)) {
    throw new NamespaceError("invalid_did", `not a namespace DID (did:macula:…): ${JSON.stringify(did)}`);
  }
  const ns = did.slice(NAMESPACE_DID_PREFIX.length);
  validateNamespace(ns);
  return ns;
}

/**
 * Whether `name` (a topic, procedure, app identity or namespace) lies inside
 * namespace `ns`, on whole segments: `ns` itself or `ns.` followed by more.
 *
 * @example
 * ```ts
 * import { inNamespace } from "./namespace.ts";
 * inNamespace("io.acme.user.profile", "io.acme.user"); // true
 * inNamespace("io.acme.username", "io.acme.user"); // false
 * ```
 */
export function inNamespace(name: string, ns: string): boolean {
  return name === ns || (name.length > ns.length + 1 && name.startsWith(ns) && name.charCodeAt(ns.length) === 0x2e);
}

/**
 * Whether `topic` is public: one of its segments after the namespace
 * (the first `MIN_NAMESPACE_SEGMENTS`) is `public`, so any realm member may
 * subscribe to it (`io.acme.plant3.public.temp`).
 *
 * @example
 * ```ts
 * import { isPublicTopic } from "./namespace.ts";
 * isPublicTopic("io.acme.plant3.public.temp"); // true
 * isPublicTopic("io.acme.public"); // false: "public" must follow a namespace
 * ```
 */
export function isPublicTopic(topic: string): boolean {
  const parts = topic.split(".");
  for (let i = MIN_NAMESPACE_SEGMENTS; i < parts.length; i++) if (parts[i] === "public") return true;
  return false;
}

/**
 * The UCAN policy that confines a delegation to namespace `ns`: the
 * operation's `name` argument is `ns` or lies under it on whole segments.
 * Names have no `*` or `\`, so the glob needs no escaping.
 *
 * @example
 * ```ts
 * import { namespacePolicy } from "./namespace.ts";
 * namespacePolicy("io.acme.plant3");
 * // [["or", [["==", ".name", "io.acme.plant3"], ["like", ".name", "io.acme.plant3.*"]]]]
 * ```
 */
export function namespacePolicy(ns: string): unknown[][] {
  validateNamespace(ns);
  return [["or", [["==", ".name", ns], ["like", ".name", `${ns}.*`]]]];
}

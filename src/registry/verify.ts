/**
 * Who may publish a release: the trust rules of the registry.
 *
 * - Always: the record decodes, its fields are valid and the issuer's
 *   signature covers every field (`decodeRelease`).
 * - In a realm with authorities (closed, or authorities configured): the
 *   chain must verify for the issuer (its last audience), be rooted at one
 *   of the realm's authorities, be current and unrevoked, and cover
 *   `/macula/registry/publish` with `{ realm, name }` — so only the owner
 *   of the name's namespace (or whom it delegated to) can publish.
 * - In an open realm without authorities: a chain, when present, must
 *   verify (self-rooted) and cover the name; when `trusted` publishers are
 *   configured, the issuer or the chain's subject must be one of them.
 *   With neither a chain nor a trusted list, anyone may sign a release of
 *   any name: only integrity is checked, not ownership.
 *
 * @module
 */
import { REGISTRY_PUBLISH_COMMAND } from "../auth/commands.ts";
import { verifyChain } from "../ucan/chain.ts";
import { UcanError } from "../ucan/errors.ts";
import { ReleaseUnauthorizedError } from "./errors.ts";
import { checkReleaseSignature, type Release } from "./release.ts";

/** How releases are judged in one realm. */
export interface ReleaseTrust {
  /** The realm the release is published in. */
  realm: string;
  /** The realm's authorities; absent or empty = an open realm without authorities. */
  roots?: ReadonlySet<string>;
  /** Publishers (`did:key`) accepted in an open realm; absent or empty = any. */
  trusted?: ReadonlySet<string>;
  /** Now, in seconds (for the chain's time bounds). */
  now?: number;
  /** Clock skew allowed, seconds. */
  skew?: number;
  /** Whether a delegation is revoked (see `ChainOptions.isRevoked`). */
  isRevoked?(cid: string, issuers: readonly string[]): boolean;
}

/**
 * Throw unless `release` may be installed under `trust`: the signature
 * (`ReleaseSignatureError`), then the chain and trust rules of the module
 * doc (`ReleaseUnauthorizedError`).
 *
 * @example
 * ```ts
 * import { verifyRelease } from "./verify.ts";
 * declare const release: import("./release.ts").Release;
 * declare const authority: string;
 * verifyRelease(release, { realm: "io.acme", roots: new Set([authority]), now: Math.floor(Date.now() / 1000) });
 * ```
 */
export function verifyRelease(release: Release, trust: ReleaseTrust): void {
  checkReleaseSignature(release);
  const guarded = trust.roots !== undefined && trust.roots.size > 0;
  const what = `${release.name}@${release.version}`;
  if (guarded && release.chain.length === 0) {
    throw new ReleaseUnauthorizedError(
      `release ${what} carries no delegation chain; realm ${trust.realm} requires one from its authorities`,
    );
  }
  let subject = release.issuer;
  if (release.chain.length > 0) {
    try {
      const chain = verifyChain(release.chain, {
        audience: release.issuer,
        roots: guarded ? trust.roots : undefined,
        now: trust.now,
        skew: trust.skew,
        isRevoked: trust.isRevoked,
      });
      if (!chain.covers(REGISTRY_PUBLISH_COMMAND, { realm: trust.realm, name: release.name })) {
        throw new ReleaseUnauthorizedError(
          `release ${what}: the issuer's chain does not cover ${REGISTRY_PUBLISH_COMMAND} on ${release.name}`,
        );
      }
      subject = chain.subject;
    } catch (error) {
      if (error instanceof UcanError) {
        throw new ReleaseUnauthorizedError(`release ${what}: chain refused: ${error.message}`, { cause: error });
      }
      throw error;
    }
  }
  if (!guarded && trust.trusted && trust.trusted.size > 0) {
    if (!trust.trusted.has(release.issuer) && !trust.trusted.has(subject)) {
      throw new ReleaseUnauthorizedError(`release ${what}: issuer ${release.issuer} is not a trusted publisher`);
    }
  }
}

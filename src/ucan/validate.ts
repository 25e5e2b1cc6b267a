/**
 * Validation of an invocation against its proofs.
 *
 * @module
 */
import { type ChainOptions, type VerifiedChain, verifiedChain, verifyChain } from "./chain.ts";
import type { Delegation } from "./delegation.ts";
import { InvalidClaimError, InvalidSubjectError, MatchError, UnavailableProofError } from "./errors.ts";
import type { Invocation } from "./invocation.ts";
import { checkSkew, checkTime, DEFAULT_SKEW } from "./time.ts";

/** How `validateInvocation` checks an invocation. */
export interface InvocationOptions {
  /** Now, in seconds; `undefined` = no trustworthy clock. */
  now?: number;
  /** Clock skew allowed, in seconds; default 60. */
  skew?: number;
  /** Acceptable subjects; absent = any. */
  roots?: ReadonlySet<string>;
  /** Revocation check of each link (see `ChainOptions.isRevoked`). */
  isRevoked?: ChainOptions["isRevoked"];
}

/**
 * Validate invocation `inv`: its time bounds; its proofs (`inv.prf`, root
 * first, looked up by CID text in `proofs`) form a chain to `inv.iss`
 * about `inv.sub`; and the chain covers `inv.cmd` on `inv.args`. An
 * invocation by the subject itself needs no proof. Returns the chain or
 * throws a `UcanError` (`InvalidClaimError`, `UnavailableProofError`,
 * `ExpiredError`, `TooEarlyError`, `NoClockError`, `InvalidAudienceError`,
 * `InvalidSubjectError`, `RevokedError`, `MatchError`).
 *
 * @example
 * ```ts
 * import { KeyPair } from "../identity/ed25519.ts";
 * import { delegate, invoke, signerFromKeyPair, validateInvocation } from "./mod.ts";
 * const alice = signerFromKeyPair(KeyPair.generate());
 * const bob = signerFromKeyPair(KeyPair.generate());
 * const d = delegate(alice, { aud: bob.did, sub: alice.did, cmd: "/msg", exp: null });
 * const inv = invoke(bob, { sub: alice.did, cmd: "/msg/send", args: {}, prf: [d.cid] });
 * validateInvocation(inv, new Map([[d.id, d]]), {}).subject === alice.did; // true
 * ```
 */
export function validateInvocation(
  inv: Invocation,
  proofs: ReadonlyMap<string, Delegation>,
  options: InvocationOptions,
): VerifiedChain {
  const skew = checkSkew(options.skew ?? DEFAULT_SKEW);
  checkTime(`invocation ${inv.id}`, inv.exp, undefined, options.now, skew);
  if (inv.prf.length === 0) {
    if (inv.iss !== inv.sub) {
      throw new InvalidClaimError(`invocation by ${inv.iss} on subject ${inv.sub} names no proof`);
    }
    if (options.roots && !options.roots.has(inv.sub)) {
      throw new InvalidSubjectError(`the subject ${inv.sub} is not an accepted root`);
    }
    return verifiedChain(inv.sub, inv.iss, []);
  }
  const links = inv.prf.map((cid) => {
    const id = cid.toString();
    const proof = proofs.get(id);
    if (!proof || proof.id !== id) throw new UnavailableProofError(id);
    return proof;
  });
  const chain = verifyChain(links, { ...options, audience: inv.iss, skew });
  if (inv.sub !== chain.subject) {
    throw new InvalidSubjectError(`invocation is about ${inv.sub} but its proofs are about ${chain.subject}`);
  }
  const why = chain.explain(inv.cmd, inv.args);
  if (why !== undefined) throw new MatchError(why);
  return chain;
}

/**
 * Delegation chains: verify that delegations, root first, form one chain
 * from a subject to an invoker, and decide which operations it covers.
 *
 * A chain is valid when: the root's subject is its issuer (never `null`)
 * and, if `roots` is given, one of them; every later subject is the root's
 * or `null` (a powerline); each `aud` is the next `iss`; the last `aud` is
 * the invoker (`audience`: the transport-proven peer, so a stolen token is
 * useless to anyone else); every link is within its time bounds; and no
 * link is revoked. It covers an operation when every link's command proves
 * the operation's command and every link's policy holds on its arguments,
 * so a link broader than its parent grants nothing more than the parent.
 *
 * @module
 */
import { commandProves } from "./command.ts";
import { Delegation } from "./delegation.ts";
import { InvalidAudienceError, InvalidClaimError, InvalidSubjectError, RevokedError } from "./errors.ts";
import { evaluatePolicy } from "./policy.ts";
import { checkSkew, checkTime, DEFAULT_SKEW } from "./time.ts";

/** Most delegations a chain may hold. */
export const MAX_CHAIN_LENGTH = 32;

/** How `verifyChain` checks a chain. */
export interface ChainOptions {
  /** The invoker's did (the transport-proven peer id); the last `aud` must equal it. */
  audience: string;
  /** Acceptable subjects (the realm's authorities); absent = any (self-rooted) subject. */
  roots?: ReadonlySet<string>;
  /** Now, in seconds; `undefined` = no trustworthy clock (only tokens without `nbf`/`exp` pass). */
  now?: number;
  /** Clock skew allowed, in seconds; default `DEFAULT_SKEW` (60). */
  skew?: number;
  /**
   * Whether the delegation `cid` is revoked, given `issuers`: the `iss` of
   * that link and of every link above it (root first), the principals
   * whose revocation of it counts.
   */
  isRevoked?(cid: string, issuers: readonly string[]): boolean;
}

/**
 * A verified chain: who it is about (`subject`), who holds it
 * (`audience`), and until when. Only `verifyChain` and
 * `validateInvocation` make one.
 *
 * @example
 * ```ts
 * import { KeyPair } from "../identity/ed25519.ts";
 * import { delegate, signerFromKeyPair, verifyChain } from "./mod.ts";
 * const authority = signerFromKeyPair(KeyPair.generate());
 * const node = signerFromKeyPair(KeyPair.generate());
 * const d = delegate(authority, {
 *   aud: node.did, sub: authority.did, cmd: "/macula/pubsub", pol: [["like", ".name", "io.acme.*"]], exp: null,
 * });
 * const chain = verifyChain([d], { audience: node.did, roots: new Set([authority.did]) });
 * chain.covers("/macula/pubsub/publish", { realm: "r", name: "io.acme.temp" }); // true
 * chain.covers("/macula/rpc/call", { realm: "r", name: "io.acme.temp" }); // false
 * ```
 */
export class VerifiedChain {
  /** The subject (the root's issuer). */
  readonly subject: string;
  /** The holder: the last link's audience (the invoker). */
  readonly audience: string;
  /** The delegations, root first (empty for an invocation by the subject itself). */
  readonly links: readonly Delegation[];
  /** The earliest `exp` in the chain (seconds), `null` if none. */
  readonly expires: number | null;
  /** The latest `nbf` in the chain (seconds), `null` if none. */
  readonly notBefore: number | null;
  /** The links' CIDs as text, root first. */
  readonly cids: readonly string[];

  private constructor(subject: string, audience: string, links: readonly Delegation[]) {
    this.subject = subject;
    this.audience = audience;
    this.links = Object.freeze([...links]);
    let expires: number | null = null;
    let notBefore: number | null = null;
    for (const link of links) {
      if (link.exp !== null && (expires === null || link.exp < expires)) expires = link.exp;
      if (link.nbf !== undefined && (notBefore === null || link.nbf > notBefore)) notBefore = link.nbf;
    }
    this.expires = expires;
    this.notBefore = notBefore;
    this.cids = Object.freeze(links.map((l) => l.id));
  }

  /** Whether every link's command proves `cmd` and every link's policy holds on `args`. */
  covers(cmd: string, args: unknown): boolean {
    for (const link of this.links) {
      if (!commandProves(link.cmd, cmd) || !evaluatePolicy(link.pol, args)) return false;
    }
    return true;
  }

  /** Why the chain does not cover `cmd` on `args` (human text), or `undefined` if it does. */
  explain(cmd: string, args: unknown): string | undefined {
    for (const [i, link] of this.links.entries()) {
      if (!commandProves(link.cmd, cmd)) {
        return `link ${i} (${link.id}, ${link.iss} → ${link.aud}) delegates ${link.cmd}, which does not cover ${cmd}`;
      }
      if (!evaluatePolicy(link.pol, args)) {
        return `link ${i} (${link.id}, ${link.iss} → ${link.aud}) has a policy ${
          JSON.stringify(link.pol).slice(0, 200)
        } that the arguments do not satisfy`;
      }
    }
    return undefined;
  }
}

/** Build a `VerifiedChain` (for this module and `validateInvocation`; the checks are the caller's). */
export function verifiedChain(subject: string, audience: string, links: readonly Delegation[]): VerifiedChain {
  const build = VerifiedChain as unknown as new (s: string, a: string, l: readonly Delegation[]) => VerifiedChain;
  return new build(subject, audience, links);
}

/**
 * Verify `chain` (delegations root first, each already signature-checked by
 * decoding) for `options.audience`. Throws a `UcanError`:
 * `InvalidClaimError` (empty, too long, `sub: null` at the root),
 * `InvalidSubjectError`, `InvalidAudienceError`, `ExpiredError`,
 * `TooEarlyError`, `NoClockError` or `RevokedError`.
 *
 * @example
 * ```ts
 * import { KeyPair } from "../identity/ed25519.ts";
 * import { delegate, InvalidAudienceError, signerFromKeyPair, verifyChain } from "./mod.ts";
 * const alice = signerFromKeyPair(KeyPair.generate());
 * const bob = signerFromKeyPair(KeyPair.generate());
 * const thief = signerFromKeyPair(KeyPair.generate());
 * const d = delegate(alice, { aud: bob.did, sub: alice.did, cmd: "/", exp: null });
 * try {
 *   verifyChain([d], { audience: thief.did });
 * } catch (e) {
 *   e instanceof InvalidAudienceError; // true
 * }
 * ```
 */
export function verifyChain(chain: readonly Delegation[], options: ChainOptions): VerifiedChain {
  if (chain.length === 0) throw new InvalidClaimError("a delegation chain needs at least one delegation");
  if (chain.length > MAX_CHAIN_LENGTH) {
    throw new InvalidClaimError(`a delegation chain holds at most ${MAX_CHAIN_LENGTH} delegations`);
  }
  const skew = checkSkew(options.skew ?? DEFAULT_SKEW);
  for (const link of chain) {
    if (!(link instanceof Delegation)) throw new InvalidClaimError("a chain holds decoded Delegations only");
  }
  const root = chain[0];
  if (root.sub === null) {
    throw new InvalidClaimError(`the root delegation ${root.id} has sub: null (a powerline cannot be a root)`);
  }
  const subject = root.sub;
  if (root.iss !== subject) {
    throw new InvalidSubjectError(`the root delegation ${root.id} is about ${subject} but issued by ${root.iss}`);
  }
  if (options.roots && !options.roots.has(subject)) {
    throw new InvalidSubjectError(`the chain's subject ${subject} is not an accepted root (a realm authority)`);
  }
  for (let i = 1; i < chain.length; i++) {
    const sub = chain[i].sub;
    if (sub !== null && sub !== subject) {
      throw new InvalidSubjectError(`delegation ${i} (${chain[i].id}) is about ${sub}, not the chain's ${subject}`);
    }
    if (chain[i - 1].aud !== chain[i].iss) {
      throw new InvalidAudienceError(
        `delegation ${i - 1} is to ${chain[i - 1].aud} but delegation ${i} is issued by ${chain[i].iss}`,
      );
    }
  }
  const last = chain[chain.length - 1];
  if (last.aud !== options.audience) {
    throw new InvalidAudienceError(`the chain is delegated to ${last.aud}, not to the invoker ${options.audience}`);
  }
  for (const [i, link] of chain.entries()) {
    checkTime(`delegation ${i} (${link.id})`, link.exp, link.nbf, options.now, skew);
  }
  if (options.isRevoked) {
    const issuers: string[] = [];
    for (const link of chain) {
      issuers.push(link.iss);
      if (options.isRevoked(link.id, [...issuers])) throw new RevokedError(link.id);
    }
  }
  return verifiedChain(subject, options.audience, chain);
}

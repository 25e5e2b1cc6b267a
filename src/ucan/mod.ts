/**
 * UCAN 1.0 capability tokens: delegations and invocations in the
 * DAG-CBOR envelope with Ed25519 `did:key` principals, the policy
 * language, delegation chains, revocations and containers.
 *
 * @example
 * ```ts
 * import { KeyPair } from "../identity/ed25519.ts";
 * import { delegate, signerFromKeyPair, verifyChain } from "./mod.ts";
 *
 * const authority = signerFromKeyPair(KeyPair.generate());
 * const owner = signerFromKeyPair(KeyPair.generate());
 * const node = signerFromKeyPair(KeyPair.generate());
 * const exp = Math.floor(Date.now() / 1000) + 3600;
 * const ns = delegate(authority, {
 *   aud: owner.did, sub: authority.did, cmd: "/macula", pol: [["like", ".name", "io.acme.*"]], exp,
 * });
 * const pub = delegate(owner, { aud: node.did, sub: authority.did, cmd: "/macula/pubsub/publish", exp });
 * const chain = verifyChain([ns, pub], {
 *   audience: node.did,
 *   roots: new Set([authority.did]),
 *   now: Math.floor(Date.now() / 1000),
 * });
 * chain.covers("/macula/pubsub/publish", { realm: "io.acme", name: "io.acme.plant3.temp" }); // true
 * chain.covers("/macula/pubsub/subscribe", { realm: "io.acme", name: "io.acme.plant3.temp" }); // false
 * ```
 *
 * @module
 */
export {
  ExpiredError,
  InvalidAudienceError,
  InvalidClaimError,
  InvalidCommandError,
  InvalidContainerError,
  InvalidPolicyError,
  InvalidRevocationError,
  InvalidSignatureError,
  InvalidSubjectError,
  MalformedTokenError,
  MatchError,
  NoClockError,
  RevokedError,
  TooEarlyError,
  UcanError,
  UnavailableProofError,
} from "./errors.ts";
export { signerFromKeyPair, type UcanSigner } from "./did-key.ts";
export { commandProves, MAX_COMMAND_LENGTH, validateCommand } from "./command.ts";
export {
  evaluatePolicy,
  MAX_POLICY_DEPTH,
  MAX_POLICY_STATEMENTS,
  type Policy,
  type Statement,
  validatePolicy,
} from "./policy.ts";
export { ACCEPTED_TAGS, MAX_TOKEN_BYTES, TOKEN_TAGS, type TokenKind, VARSIG_ED25519_DAG_CBOR } from "./envelope.ts";
export { DEFAULT_NONCE_BYTES, delegate, Delegation, type DelegationFields } from "./delegation.ts";
export { Invocation, type InvocationFields, invoke, MAX_PROOFS } from "./invocation.ts";
export { decodeToken } from "./token.ts";
export { type ChainOptions, MAX_CHAIN_LENGTH, VerifiedChain, verifyChain } from "./chain.ts";
export { type InvocationOptions, validateInvocation } from "./validate.ts";
export { DEFAULT_SKEW } from "./time.ts";
export { readRevocation, revoke, REVOKE_COMMAND } from "./revocation.ts";
export { decodeContainer, encodeContainer, MAX_CONTAINER_TOKENS, parseChain } from "./container.ts";

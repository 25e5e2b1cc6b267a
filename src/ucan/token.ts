/**
 * Decode a token of either kind.
 *
 * @module
 */
import { type Delegation, delegationFromEnvelope } from "./delegation.ts";
import { decodeEnvelope } from "./envelope.ts";
import { type Invocation, invocationFromEnvelope } from "./invocation.ts";

/**
 * Decode `bytes` as a delegation or an invocation (by its payload tag),
 * strictly, verifying the signature. Throws only `UcanError`s.
 *
 * @example
 * ```ts
 * import { KeyPair } from "../identity/ed25519.ts";
 * import { decodeToken, Delegation, delegate, signerFromKeyPair } from "./mod.ts";
 * const alice = signerFromKeyPair(KeyPair.generate());
 * const d = delegate(alice, { aud: alice.did, sub: alice.did, cmd: "/", exp: null });
 * decodeToken(d.bytes) instanceof Delegation; // true
 * ```
 */
export function decodeToken(bytes: Uint8Array): Delegation | Invocation {
  const envelope = decodeEnvelope(bytes);
  return envelope.kind === "dlg" ? delegationFromEnvelope(bytes, envelope) : invocationFromEnvelope(bytes, envelope);
}

/**
 * Principals of UCAN tokens: Ed25519 `did:key`s. A `UcanSigner` signs for
 * one; `principalKey` decodes one (with a small cache, since the same few
 * issuers sign most tokens a node sees).
 *
 * @module
 */
import { decodeDidKey, DidError, encodeDidKey } from "../identity/did.ts";
import type { KeyPair } from "../identity/ed25519.ts";

/** Signs for a did:key (Ed25519). */
export interface UcanSigner {
  /** The `did:key` of the signing key. */
  readonly did: string;
  /** An Ed25519 signature of `message`. */
  sign(message: Uint8Array): Uint8Array;
}

/**
 * A signer for `keyPair`.
 *
 * @example
 * ```ts
 * import { KeyPair } from "../identity/ed25519.ts";
 * import { signerFromKeyPair } from "./did-key.ts";
 * const signer = signerFromKeyPair(KeyPair.generate());
 * signer.did.startsWith("did:key:z6Mk"); // true
 * ```
 */
export function signerFromKeyPair(keyPair: KeyPair): UcanSigner {
  const did = encodeDidKey(keyPair.publicKey);
  return { did, sign: (message) => keyPair.sign(message) };
}

const CACHE_LIMIT = 1024;
const keys = new Map<string, Uint8Array>();

/**
 * The Ed25519 public key of `did`, or `undefined` if it is not a usable
 * Ed25519 `did:key` (`reason` then receives why).
 */
export function principalKey(did: string, reason?: (why: string) => void): Uint8Array | undefined {
  const cached = keys.get(did);
  if (cached) return cached;
  try {
    const key = decodeDidKey(did);
    if (keys.size >= CACHE_LIMIT) keys.delete(keys.keys().next().value!);
    keys.set(did, key);
    return key;
  } catch (e) {
    if (!(e instanceof DidError)) throw e;
    reason?.(e.message);
    return undefined;
  }
}

/**
 * `did:key` encoding of Ed25519 public keys: multicodec `ed25519-pub`
 * (0xed 0x01) followed by the key, in multibase base58btc (`z…`).
 *
 * @module
 */
import { isStrictEd25519PublicKey } from "../crypto/mod.ts";
import { MaculaError } from "../util/errors.ts";
import { decodeBase58, encodeBase58 } from "./base58.ts";
import { PUBLIC_KEY_LENGTH } from "./ed25519.ts";

const PREFIX = "did:key:z";
const MULTICODEC_ED25519_PUB = [0xed, 0x01];

/** Thrown for a string that is not a valid Ed25519 `did:key`. */
export class DidError extends MaculaError {
  /** `message` says what is wrong with the string. */
  constructor(message: string) {
    super("E_DID_INVALID", message);
  }
}

/**
 * Encode an Ed25519 public key as a `did:key`.
 *
 * @example
 * ```ts
 * import { encodeDidKey } from "./did.ts";
 * encodeDidKey(new Uint8Array(32)); // "did:key:z6Mk…"
 * ```
 */
export function encodeDidKey(publicKey: Uint8Array): string {
  if (publicKey.length !== PUBLIC_KEY_LENGTH) {
    throw new DidError(`Ed25519 public key must be ${PUBLIC_KEY_LENGTH} bytes, got ${publicKey.length}`);
  }
  const bytes = new Uint8Array(2 + PUBLIC_KEY_LENGTH);
  bytes.set(MULTICODEC_ED25519_PUB);
  bytes.set(publicKey, 2);
  return PREFIX + encodeBase58(bytes);
}

/**
 * Throw `DidError` unless `publicKey` is a 32-byte Ed25519 public key Macula
 * accepts as an identity: the canonical encoding of a point that is not of
 * small order (no identity point, no key with which a trivial signature
 * verifies for every message).
 */
export function assertUsablePublicKey(publicKey: Uint8Array): void {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_LENGTH) {
    throw new DidError(`an Ed25519 public key is ${PUBLIC_KEY_LENGTH} bytes`);
  }
  if (!isStrictEd25519PublicKey(publicKey)) {
    throw new DidError("weak Ed25519 public key refused (small-order or non-canonical point)");
  }
}

/**
 * Decode a `did:key` into its 32-byte Ed25519 public key, or throw
 * `DidError` (also for a weak key: see `assertUsablePublicKey`).
 */
export function decodeDidKey(did: string): Uint8Array {
  if (typeof did !== "string" || !did.startsWith(PREFIX)) {
    throw new DidError(`not a did:key with base58btc multibase: ${JSON.stringify(String(did).slice(0, 80))}`);
  }
  if (did.length > 128) throw new DidError("did:key is too long");
  let bytes: Uint8Array;
  try {
    bytes = decodeBase58(did.slice(PREFIX.length));
  } catch {
    throw new DidError(`did:key has characters outside base58btc: ${JSON.stringify(did)}`);
  }
  if (bytes[0] !== MULTICODEC_ED25519_PUB[0] || bytes[1] !== MULTICODEC_ED25519_PUB[1]) {
    throw new DidError(`did:key is not an Ed25519 key (multicodec 0xed01 expected): ${JSON.stringify(did)}`);
  }
  if (bytes.length !== 2 + PUBLIC_KEY_LENGTH) {
    throw new DidError(`did:key holds ${bytes.length - 2} key bytes, expected ${PUBLIC_KEY_LENGTH}`);
  }
  const key = bytes.slice(2);
  assertUsablePublicKey(key);
  return key;
}

/**
 * Ed25519 signing keys (the primitives come from `src/crypto`: `node:crypto`
 * where present, else pure JavaScript).
 *
 * @module
 */
import { ed25519PublicKeyToSpki, ed25519SeedToPkcs8 } from "../crypto/der.ts";
import { type Ed25519SigningKey, ed25519SigningKey, ed25519Verify, randomBytes } from "../crypto/mod.ts";

/** Length of an Ed25519 public key in bytes. */
export const PUBLIC_KEY_LENGTH = 32;
/** Length of an Ed25519 secret seed in bytes. */
export const SEED_LENGTH = 32;
/** Length of an Ed25519 signature in bytes. */
export const SIGNATURE_LENGTH = 64;

/** Wrap a 32-byte seed in a PKCS#8 `PrivateKeyInfo` (DER). */
export function seedToPkcs8(seed: Uint8Array): Uint8Array {
  return ed25519SeedToPkcs8(seed);
}

/** Wrap a 32-byte public key in a `SubjectPublicKeyInfo` (DER). */
export function publicKeyToSpki(publicKey: Uint8Array): Uint8Array {
  return ed25519PublicKeyToSpki(publicKey);
}

/**
 * An Ed25519 key pair.
 *
 * @example
 * ```ts
 * import { KeyPair, verify } from "./ed25519.ts";
 * const kp = KeyPair.generate();
 * const sig = kp.sign(new TextEncoder().encode("hello"));
 * verify(kp.publicKey, new TextEncoder().encode("hello"), sig); // true
 * ```
 */
export class KeyPair {
  /** The 32-byte public key. */
  readonly publicKey: Uint8Array;
  readonly #seed: Uint8Array;
  readonly #key: Ed25519SigningKey;

  private constructor(seed: Uint8Array) {
    if (seed.length !== SEED_LENGTH) {
      throw new RangeError(`Ed25519 seed must be ${SEED_LENGTH} bytes, got ${seed.length}`);
    }
    this.#seed = Uint8Array.from(seed);
    this.#key = ed25519SigningKey(this.#seed);
    this.publicKey = this.#key.publicKey;
  }

  /** Generate a fresh key pair from the system CSPRNG. */
  static generate(): KeyPair {
    return new KeyPair(randomBytes(SEED_LENGTH));
  }

  /** Rebuild a key pair from its 32-byte seed. */
  static fromSeed(seed: Uint8Array): KeyPair {
    return new KeyPair(seed);
  }

  /** A copy of the secret seed, for storage. Handle with care. */
  exportSeed(): Uint8Array {
    return Uint8Array.from(this.#seed);
  }

  /** Sign `message`, returning a 64-byte signature. */
  sign(message: Uint8Array): Uint8Array {
    return this.#key.sign(message);
  }
}

/**
 * Verify an Ed25519 signature. Returns `false` (never throws) for malformed
 * keys or signatures.
 */
export function verify(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (publicKey.length !== PUBLIC_KEY_LENGTH || signature.length !== SIGNATURE_LENGTH) {
    return false;
  }
  return ed25519Verify(publicKey, message, signature);
}

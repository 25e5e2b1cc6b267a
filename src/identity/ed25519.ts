/**
 * Ed25519 signing keys backed by the runtime's `node:crypto` (the fastest
 * implementation available to both Deno and Node, see PLATFORM.md).
 *
 * @module
 */
import { createPrivateKey, createPublicKey, type KeyObject, sign as nodeSign, verify as nodeVerify } from "node:crypto";
import { Buffer } from "node:buffer";
import { concat, plain, toHex } from "../util/bytes.ts";

/** Length of an Ed25519 public key in bytes. */
export const PUBLIC_KEY_LENGTH = 32;
/** Length of an Ed25519 secret seed in bytes. */
export const SEED_LENGTH = 32;
/** Length of an Ed25519 signature in bytes. */
export const SIGNATURE_LENGTH = 64;

const PKCS8_PREFIX = Uint8Array.from([
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x70,
  0x04,
  0x22,
  0x04,
  0x20,
]);
const SPKI_PREFIX = Uint8Array.from([
  0x30,
  0x2a,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x70,
  0x03,
  0x21,
  0x00,
]);

/** Wrap a 32-byte seed in a PKCS#8 `PrivateKeyInfo` (DER). */
export function seedToPkcs8(seed: Uint8Array): Uint8Array {
  return concat(PKCS8_PREFIX, seed);
}

/** Wrap a 32-byte public key in a `SubjectPublicKeyInfo` (DER). */
export function publicKeyToSpki(publicKey: Uint8Array): Uint8Array {
  return concat(SPKI_PREFIX, publicKey);
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
  readonly #key: KeyObject;

  private constructor(seed: Uint8Array) {
    if (seed.length !== SEED_LENGTH) {
      throw new RangeError(`Ed25519 seed must be ${SEED_LENGTH} bytes, got ${seed.length}`);
    }
    this.#seed = Uint8Array.from(seed);
    this.#key = createPrivateKey({
      key: Buffer.from(seedToPkcs8(this.#seed)),
      format: "der",
      type: "pkcs8",
    });
    const spki = plain(createPublicKey(this.#key).export({ format: "der", type: "spki" }));
    this.publicKey = spki.slice(SPKI_PREFIX.length);
  }

  /** Generate a fresh key pair from the system CSPRNG. */
  static generate(): KeyPair {
    return new KeyPair(crypto.getRandomValues(new Uint8Array(SEED_LENGTH)));
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
    return plain(nodeSign(null, message, this.#key));
  }
}

const publicKeyCache = new Map<string, KeyObject>();
const PUBLIC_KEY_CACHE_MAX = 4096;

function publicKeyObject(publicKey: Uint8Array): KeyObject {
  const hex = toHex(publicKey);
  let key = publicKeyCache.get(hex);
  if (key === undefined) {
    key = createPublicKey({
      key: Buffer.from(publicKeyToSpki(publicKey)),
      format: "der",
      type: "spki",
    });
    if (publicKeyCache.size >= PUBLIC_KEY_CACHE_MAX) {
      publicKeyCache.delete(publicKeyCache.keys().next().value!);
    }
    publicKeyCache.set(hex, key);
  }
  return key;
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
  try {
    return nodeVerify(null, message, publicKeyObject(publicKey), signature);
  } catch {
    return false;
  }
}

/**
 * The fixed DER wrappers of raw Ed25519 and X25519 keys (RFC 8410):
 * PKCS#8 `PrivateKeyInfo` around a 32-byte private key, and
 * `SubjectPublicKeyInfo` around a 32-byte public key.
 *
 * @module
 */
import { concat, fromHex } from "../util/bytes.ts";

/** PKCS#8 prefix of an Ed25519 seed (OID 1.3.101.112). */
export const ED25519_PKCS8_PREFIX: Uint8Array = fromHex("302e020100300506032b657004220420");
/** SPKI prefix of an Ed25519 public key. */
export const ED25519_SPKI_PREFIX: Uint8Array = fromHex("302a300506032b6570032100");
/** PKCS#8 prefix of an X25519 private key (OID 1.3.101.110). */
export const X25519_PKCS8_PREFIX: Uint8Array = fromHex("302e020100300506032b656e04220420");
/** SPKI prefix of an X25519 public key. */
export const X25519_SPKI_PREFIX: Uint8Array = fromHex("302a300506032b656e032100");

/**
 * Wrap a 32-byte Ed25519 seed in a PKCS#8 `PrivateKeyInfo` (DER).
 *
 * @example
 * ```ts
 * import { ed25519SeedToPkcs8 } from "./der.ts";
 * ed25519SeedToPkcs8(new Uint8Array(32)).length; // 48
 * ```
 */
export function ed25519SeedToPkcs8(seed: Uint8Array): Uint8Array {
  return concat(ED25519_PKCS8_PREFIX, seed);
}

/** Wrap a 32-byte Ed25519 public key in a `SubjectPublicKeyInfo` (DER). */
export function ed25519PublicKeyToSpki(publicKey: Uint8Array): Uint8Array {
  return concat(ED25519_SPKI_PREFIX, publicKey);
}

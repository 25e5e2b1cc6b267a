/**
 * Every cryptographic primitive Macula uses, in one place: Ed25519, X25519,
 * ChaCha20-Poly1305, SHA-256, HMAC-SHA256, HKDF-SHA256 and random bytes. All
 * synchronous.
 *
 * Two backends implement them (`types.ts` is the contract):
 * - `node.ts`: `node:crypto` (OpenSSL), the fastest under Deno and Node;
 * - `noble.ts`: pure JavaScript (`@noble/*`), for runtimes without it.
 *
 * The backend is chosen once, on first use, with no top-level await (the
 * Node single binaries are one CommonJS bundle): `node.ts` if it provides
 * one, else `noble.ts`. `node.ts` is the only file here that imports a Node
 * built-in; a browser bundle maps it to `absent.ts` (an import-map entry or
 * a bundler alias for `src/crypto/node.ts`), and everything else in `src/`
 * outside `src/platform` then runs unchanged. Random bytes come from the
 * Web Crypto `crypto.getRandomValues`, present everywhere.
 *
 * @example
 * ```ts
 * import { ed25519SigningKey, ed25519Verify, sha256 } from "./mod.ts";
 * const key = ed25519SigningKey(new Uint8Array(32));
 * const message = sha256(new TextEncoder().encode("hello"));
 * ed25519Verify(key.publicKey, message, key.sign(message)); // true
 * ```
 *
 * @module
 */
import { hkdf } from "./hkdf.ts";
import { nobleBackend } from "./noble.ts";
import { nodeBackend } from "./node.ts";
import type { AeadKey, CryptoBackend, Ed25519SigningKey, X25519PrivateKey } from "./types.ts";

export type { AeadKey, CryptoBackend, Ed25519SigningKey, X25519PrivateKey } from "./types.ts";
export { isStrictEd25519PublicKey } from "./ed25519-strict.ts";

let chosen: CryptoBackend | undefined;

/** The backend in use: `node:crypto` where present, else pure JavaScript (chosen once). */
export function cryptoBackend(): CryptoBackend {
  return chosen ??= nodeBackend ?? nobleBackend;
}

/** Largest request `crypto.getRandomValues` serves in one call. */
const RANDOM_CHUNK = 65536;

/** `length` bytes from the system CSPRNG. */
export function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += RANDOM_CHUNK) {
    crypto.getRandomValues(out.subarray(i, Math.min(length, i + RANDOM_CHUNK)));
  }
  return out;
}

/** SHA-256 of the concatenation of `parts`. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  return (chosen ?? cryptoBackend()).sha256(parts);
}

/** HMAC-SHA256 under `key` of the concatenation of `parts`. */
export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  return (chosen ?? cryptoBackend()).hmacSha256(key, parts);
}

/**
 * HKDF-SHA256 (RFC 5869): `length` bytes (at most 8160) from the input key
 * material `ikm`, with `salt` and `info`.
 *
 * @example
 * ```ts
 * import { hkdfSha256 } from "./mod.ts";
 * const okm = hkdfSha256(new Uint8Array(32), new Uint8Array([1, 2, 3]), new Uint8Array(0), 64);
 * okm.length; // 64
 * ```
 */
export function hkdfSha256(salt: Uint8Array, ikm: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  return hkdf(chosen ?? cryptoBackend(), salt, ikm, info, length);
}

/** Are `a` and `b` equal? Constant time in their contents (not in their lengths). */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** The Ed25519 signing key of a 32-byte seed. */
export function ed25519SigningKey(seed: Uint8Array): Ed25519SigningKey {
  if (seed.length !== 32) throw new RangeError(`Ed25519 seed must be 32 bytes, got ${seed.length}`);
  return (chosen ?? cryptoBackend()).ed25519FromSeed(seed);
}

/**
 * Verify an Ed25519 signature; `false` (never throws) for malformed keys or
 * signatures, for a small-order or non-canonical public key, a non-canonical
 * `R` and `S >= L`.
 */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  return (chosen ?? cryptoBackend()).ed25519Verify(publicKey, message, signature);
}

/** The X25519 key of a 32-byte private key (fresh from the CSPRNG if omitted). */
export function x25519PrivateKey(privateKey: Uint8Array = randomBytes(32)): X25519PrivateKey {
  if (privateKey.length !== 32) throw new RangeError(`an X25519 private key is 32 bytes, got ${privateKey.length}`);
  return (chosen ?? cryptoBackend()).x25519FromPrivate(privateKey);
}

/** A ChaCha20-Poly1305 key from its 32 bytes. */
export function aeadKey(key: Uint8Array): AeadKey {
  if (key.length !== 32) throw new RangeError(`a ChaCha20-Poly1305 key is 32 bytes, got ${key.length}`);
  return (chosen ?? cryptoBackend()).aeadKey(key);
}

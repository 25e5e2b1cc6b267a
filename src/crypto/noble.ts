/**
 * The pure-JavaScript backend (`@noble/curves`, `@noble/hashes`,
 * `@noble/ciphers`): runs anywhere, including browsers; used when
 * `node:crypto` is absent. Ed25519 verification is strict RFC 8032 (no
 * ZIP-215 leniency) plus the checks of `ed25519-strict.ts`, as on the
 * `node:crypto` backend.
 *
 * @module
 */
import { ed25519, x25519 } from "npm:@noble/curves@2.4.0/ed25519.js";
import { sha256 } from "npm:@noble/hashes@2.4.0/sha2.js";
import { hmac } from "npm:@noble/hashes@2.4.0/hmac.js";
import { chacha20poly1305 } from "npm:@noble/ciphers@2.4.0/chacha.js";
import { strictEd25519Inputs } from "./ed25519-strict.ts";
import type { AeadKey, CryptoBackend, Ed25519SigningKey, X25519PrivateKey } from "./types.ts";

class NobleAeadKey implements AeadKey {
  readonly #key: Uint8Array;

  constructor(key: Uint8Array) {
    this.#key = Uint8Array.from(key);
  }

  seal(nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, offset: number): void {
    out.set(chacha20poly1305(this.#key, nonce, ad.length > 0 ? ad : undefined).encrypt(plaintext), offset);
  }

  open(nonce: Uint8Array, ad: Uint8Array, sealed: Uint8Array): Uint8Array {
    return chacha20poly1305(this.#key, nonce, ad.length > 0 ? ad : undefined).decrypt(sealed);
  }
}

/**
 * The pure-JavaScript backend.
 *
 * @example
 * ```ts
 * import { nobleBackend } from "./noble.ts";
 * nobleBackend.sha256([new TextEncoder().encode("abc")]).length; // 32
 * ```
 */
export const nobleBackend: CryptoBackend = {
  name: "noble",
  ed25519FromSeed(seed: Uint8Array): Ed25519SigningKey {
    const secret = Uint8Array.from(seed);
    return { publicKey: ed25519.getPublicKey(secret), sign: (message) => ed25519.sign(message, secret) };
  },
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    // noble's strict mode checks the same; the shared check keeps both backends identical and fails fast.
    if (!strictEd25519Inputs(publicKey, signature)) return false;
    try {
      return ed25519.verify(signature, message, publicKey, { zip215: false });
    } catch {
      return false;
    }
  },
  x25519FromPrivate(privateKey: Uint8Array): X25519PrivateKey {
    const secret = Uint8Array.from(privateKey);
    return { publicKey: x25519.getPublicKey(secret), dh: (publicKey) => x25519.getSharedSecret(secret, publicKey) };
  },
  aeadKey: (key: Uint8Array): AeadKey => new NobleAeadKey(key),
  sha256(parts: readonly Uint8Array[]): Uint8Array {
    const hash = sha256.create();
    for (const part of parts) hash.update(part);
    return hash.digest();
  },
  hmacSha256(key: Uint8Array, parts: readonly Uint8Array[]): Uint8Array {
    const mac = hmac.create(sha256, key);
    for (const part of parts) mac.update(part);
    return mac.digest();
  },
};

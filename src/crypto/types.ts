/**
 * The primitives a crypto backend provides (`node.ts`: `node:crypto`;
 * `noble.ts`: pure JavaScript). Every operation is synchronous.
 *
 * @module
 */

/** An Ed25519 signing key, built once from its seed and reused. */
export interface Ed25519SigningKey {
  /** The 32-byte public key. */
  readonly publicKey: Uint8Array;
  /** A 64-byte signature of `message` (RFC 8032, deterministic). */
  sign(message: Uint8Array): Uint8Array;
}

/** An X25519 private key, built once and reused. */
export interface X25519PrivateKey {
  /** The 32-byte public key (little-endian u-coordinate). */
  readonly publicKey: Uint8Array;
  /**
   * The 32-byte shared secret with `publicKey` (32 bytes). May throw for a
   * low-order point; the caller also rejects an all-zero result.
   */
  dh(publicKey: Uint8Array): Uint8Array;
}

/** A ChaCha20-Poly1305 key (RFC 8439), imported once and reused. */
export interface AeadKey {
  /**
   * Encrypt `plaintext` with the 12-byte `nonce` and associated data `ad`,
   * writing the ciphertext and then the 16-byte tag into `out` at `offset`.
   */
  seal(nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, offset: number): void;
  /**
   * Decrypt `sealed` (ciphertext, then the 16-byte tag). Throws if the tag
   * does not authenticate it.
   */
  open(nonce: Uint8Array, ad: Uint8Array, sealed: Uint8Array): Uint8Array;
}

/** One implementation of every primitive the code uses. */
export interface CryptoBackend {
  /** `"node"` (`node:crypto`) or `"noble"` (pure JavaScript). */
  readonly name: string;
  /** The Ed25519 signing key of a 32-byte seed. */
  ed25519FromSeed(seed: Uint8Array): Ed25519SigningKey;
  /**
   * Verify an Ed25519 signature: strict RFC 8032, and false for a small-order
   * or non-canonical public key, a non-canonical `R` or `S >= L`
   * (`ed25519-strict.ts`). False for malformed input, never throws.
   */
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  /** The X25519 key of a 32-byte private key. */
  x25519FromPrivate(privateKey: Uint8Array): X25519PrivateKey;
  /** A ChaCha20-Poly1305 key from its 32 bytes. */
  aeadKey(key: Uint8Array): AeadKey;
  /** SHA-256 of the concatenation of `parts`. */
  sha256(parts: readonly Uint8Array[]): Uint8Array;
  /** HMAC-SHA256 under `key` of the concatenation of `parts`. */
  hmacSha256(key: Uint8Array, parts: readonly Uint8Array[]): Uint8Array;
}

/**
 * X25519 key pairs, the Noise `DH` functions for curve 25519 (primitives
 * from `src/crypto`), including the rejection of low-order peer keys.
 *
 * @module
 */
import { type X25519PrivateKey, x25519PrivateKey } from "../../crypto/mod.ts";
import { WireError } from "../../wire/errors.ts";
import { DH_LENGTH } from "./constants.ts";

/**
 * An X25519 key pair (the Noise `DH` functions for curve 25519).
 *
 * @example
 * ```ts
 * import { X25519KeyPair } from "./x25519.ts";
 * const a = X25519KeyPair.generate();
 * const b = X25519KeyPair.generate();
 * a.dh(b.publicKey); // equals b.dh(a.publicKey)
 * ```
 */
export class X25519KeyPair {
  /** The 32-byte public key (little-endian u-coordinate). */
  readonly publicKey: Uint8Array;
  readonly #privateKey: X25519PrivateKey;

  private constructor(privateKey: X25519PrivateKey) {
    this.#privateKey = privateKey;
    this.publicKey = privateKey.publicKey;
  }

  /** Generate a fresh key pair from the system CSPRNG. */
  static generate(): X25519KeyPair {
    return new X25519KeyPair(x25519PrivateKey());
  }

  /** Rebuild a key pair from its 32-byte private key (e.g. a test vector). */
  static fromPrivateKey(privateKey: Uint8Array): X25519KeyPair {
    if (privateKey.length !== DH_LENGTH) {
      throw new RangeError(
        `an X25519 private key is ${DH_LENGTH} bytes, got ${privateKey.length}`,
      );
    }
    return new X25519KeyPair(x25519PrivateKey(privateKey));
  }

  /**
   * X25519 with `remotePublicKey`. Throws `WireError` (`E_WIRE_INVALID`) if
   * the key is not 32 bytes or is of low order (all-zero shared secret):
   * such keys only ever come from a peer.
   */
  dh(remotePublicKey: Uint8Array): Uint8Array {
    if (remotePublicKey.length !== DH_LENGTH) {
      throw new WireError(
        "E_WIRE_INVALID",
        "X25519 public key",
        `expected ${DH_LENGTH} bytes, got ${remotePublicKey.length}`,
      );
    }
    let shared: Uint8Array;
    try {
      shared = this.#privateKey.dh(remotePublicKey);
    } catch (error) {
      // OpenSSL (and noble) refuse to derive an all-zero secret; report it as such.
      throw new WireError(
        "E_WIRE_INVALID",
        "X25519 public key",
        "key agreement failed (low-order point)",
        { cause: error },
      );
    }
    let acc = 0;
    for (let i = 0; i < shared.length; i++) acc |= shared[i];
    if (acc === 0) {
      throw new WireError(
        "E_WIRE_INVALID",
        "X25519 public key",
        "low-order point (all-zero shared secret)",
      );
    }
    return shared;
  }
}

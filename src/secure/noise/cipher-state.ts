/**
 * `CipherState` (Noise spec §5.1): a ChaCha20-Poly1305 key and the 64-bit
 * nonce counter that goes with it (the AEAD comes from `src/crypto`).
 *
 * @module
 */
import { type AeadKey, aeadKey } from "../../crypto/mod.ts";
import { KEY_LENGTH, TAG_LENGTH } from "./constants.ts";
import { NoiseError } from "./errors.ts";

const EMPTY = new Uint8Array(0);
const MAX_NONCE = (1n << 64n) - 1n;

/**
 * A ChaCha20-Poly1305 key and a 64-bit nonce counter (spec §5.1). The
 * 96-bit AEAD nonce is 4 zero bytes followed by the counter, little-endian.
 * The key is imported once (`aeadKey`) and reused for every message.
 *
 * @example
 * ```ts
 * import { CipherState } from "./cipher-state.ts";
 * const key = crypto.getRandomValues(new Uint8Array(32));
 * const sender = new CipherState(key);
 * const receiver = new CipherState(key);
 * const sealed = sender.encryptWithAd(new Uint8Array(0), new TextEncoder().encode("hi"));
 * receiver.decryptWithAd(new Uint8Array(0), sealed); // the bytes of "hi"
 * ```
 */
export class CipherState {
  #key: AeadKey | null = null;
  // The counter as two 32-bit halves: exact up to 2^64-1 without BigInt.
  #lo = 0;
  #hi = 0;
  readonly #iv = new Uint8Array(12);
  readonly #ivView = new DataView(this.#iv.buffer);

  /** A cipher state with `key`, or without a key (pass-through) if omitted. */
  constructor(key?: Uint8Array | null) {
    this.initializeKey(key ?? null);
  }

  /** `InitializeKey(key)`: set the key (or clear it) and reset the nonce to 0. */
  initializeKey(key: Uint8Array | null): void {
    if (key !== null && key.length !== KEY_LENGTH) {
      throw new RangeError(
        `a cipher key is ${KEY_LENGTH} bytes, got ${key.length}`,
      );
    }
    this.#key = key === null ? null : aeadKey(key);
    this.#lo = 0;
    this.#hi = 0;
  }

  /** `HasKey()`. */
  hasKey(): boolean {
    return this.#key !== null;
  }

  /** The next nonce to be used. */
  get nonce(): bigint {
    return (BigInt(this.#hi) << 32n) | BigInt(this.#lo);
  }

  /** `SetNonce(n)`: for tests and out-of-order transports. */
  setNonce(nonce: bigint): void {
    if (nonce < 0n || nonce > MAX_NONCE) {
      throw new RangeError("a nonce is an unsigned 64-bit integer");
    }
    this.#lo = Number(nonce & 0xffffffffn);
    this.#hi = Number(nonce >> 32n);
  }

  /**
   * `EncryptWithAd(ad, plaintext)`: ciphertext followed by the 16-byte tag,
   * or a copy of `plaintext` if there is no key.
   */
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    if (this.#key === null) return plaintext.slice();
    const out = new Uint8Array(plaintext.length + TAG_LENGTH);
    this.#seal(ad, plaintext, out, 0);
    return out;
  }

  /**
   * Encrypt `plaintext` with empty associated data into `out` at `offset`
   * (ciphertext, then tag): the transport fast path, which lets the caller
   * build `[length][ciphertext][tag]` in one buffer and send it with one
   * write. `out` must have `plaintext.length + 16` bytes free at `offset`.
   */
  encryptInto(plaintext: Uint8Array, out: Uint8Array, offset: number): void {
    if (this.#key === null) {
      throw new NoiseError("E_NOISE_STATE", "cipher state has no key");
    }
    if (offset < 0 || out.length - offset < plaintext.length + TAG_LENGTH) {
      throw new RangeError("output buffer is too small for ciphertext and tag");
    }
    this.#seal(EMPTY, plaintext, out, offset);
  }

  /**
   * `DecryptWithAd(ad, ciphertext)`: the plaintext, or a copy of
   * `ciphertext` if there is no key. Throws `NoiseError` (`E_NOISE_DECRYPT`)
   * if authentication fails; the nonce then stays unchanged.
   */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (this.#key === null) return ciphertext.slice();
    this.#checkNonce();
    if (ciphertext.length < TAG_LENGTH) {
      throw new NoiseError(
        "E_NOISE_DECRYPT",
        `ciphertext of ${ciphertext.length} bytes is shorter than the ${TAG_LENGTH}-byte tag`,
      );
    }
    this.#writeIv();
    let plaintext: Uint8Array;
    try {
      plaintext = this.#key.open(this.#iv, ad, ciphertext);
    } catch (error) {
      throw new NoiseError("E_NOISE_DECRYPT", "authentication failed", {
        cause: error,
      });
    }
    this.#increment();
    return plaintext;
  }

  /** `Rekey()`: replace the key with `ENCRYPT(k, 2^64-1, "", zeros)[0..32]`. */
  rekey(): void {
    if (this.#key === null) {
      throw new NoiseError("E_NOISE_STATE", "cipher state has no key");
    }
    const iv = new Uint8Array(12);
    iv.fill(0xff, 4);
    const sealed = new Uint8Array(KEY_LENGTH + TAG_LENGTH);
    this.#key.seal(iv, EMPTY, new Uint8Array(KEY_LENGTH), sealed, 0);
    this.#key = aeadKey(sealed.subarray(0, KEY_LENGTH));
  }

  #seal(
    ad: Uint8Array,
    plaintext: Uint8Array,
    out: Uint8Array,
    offset: number,
  ): void {
    this.#checkNonce();
    this.#writeIv();
    this.#key!.seal(this.#iv, ad, plaintext, out, offset);
    this.#increment();
  }

  #checkNonce(): void {
    if (this.#hi === 0xffffffff && this.#lo === 0xffffffff) {
      throw new NoiseError(
        "E_NOISE_NONCE_EXHAUSTED",
        "nonce reached 2^64-1; this cipher state must not be used again",
      );
    }
  }

  #writeIv(): void {
    this.#ivView.setUint32(4, this.#lo, true);
    this.#ivView.setUint32(8, this.#hi, true);
  }

  #increment(): void {
    this.#lo = (this.#lo + 1) >>> 0;
    if (this.#lo === 0) this.#hi = (this.#hi + 1) >>> 0;
  }
}

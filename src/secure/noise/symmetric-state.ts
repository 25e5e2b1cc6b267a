/**
 * `SymmetricState` (Noise spec §5.2): the chaining key and handshake hash,
 * with the SHA-256 HKDF (spec §4.3) that advances them.
 *
 * @module
 */
import { hkdfSha256, sha256 } from "../../crypto/mod.ts";
import { utf8 } from "../../util/bytes.ts";
import { CipherState } from "./cipher-state.ts";
import { HASH_LENGTH, PROTOCOL_NAME } from "./constants.ts";

const EMPTY = new Uint8Array(0);

/**
 * `HKDF(chaining_key, input_key_material, 2)` of the Noise spec (§4.3):
 * RFC 5869 HKDF-SHA256 with salt = chaining key, empty info, 64 bytes out.
 */
export function hkdf(
  chainingKey: Uint8Array,
  inputKeyMaterial: Uint8Array,
): [Uint8Array, Uint8Array] {
  const okm = hkdfSha256(chainingKey, inputKeyMaterial, EMPTY, 2 * HASH_LENGTH);
  return [okm.slice(0, HASH_LENGTH), okm.slice(HASH_LENGTH)];
}

/**
 * The chaining key `ck`, the handshake hash `h` and a `CipherState`
 * (spec §5.2).
 *
 * @example
 * ```ts
 * import { SymmetricState } from "./symmetric-state.ts";
 * const ss = new SymmetricState();
 * ss.mixHash(new TextEncoder().encode("prologue"));
 * ss.handshakeHash; // 32 bytes
 * ```
 */
export class SymmetricState {
  #ck: Uint8Array;
  #h: Uint8Array;
  /** The handshake cipher state (no key until the first `mixKey`). */
  readonly cipher: CipherState = new CipherState();

  /** `InitializeSymmetric(protocol_name)`. */
  constructor(protocolName: string = PROTOCOL_NAME) {
    const name = utf8(protocolName);
    if (name.length <= HASH_LENGTH) {
      this.#h = new Uint8Array(HASH_LENGTH);
      this.#h.set(name);
    } else {
      this.#h = sha256(name);
    }
    this.#ck = this.#h.slice();
  }

  /** A copy of the current handshake hash `h`. */
  get handshakeHash(): Uint8Array {
    return this.#h.slice();
  }

  /** `MixKey(input_key_material)`. */
  mixKey(inputKeyMaterial: Uint8Array): void {
    const [ck, tempK] = hkdf(this.#ck, inputKeyMaterial);
    this.#ck = ck;
    this.cipher.initializeKey(tempK);
  }

  /** `MixHash(data)`: `h = SHA256(h || data)`. */
  mixHash(data: Uint8Array): void {
    this.#h = sha256(this.#h, data);
  }

  /** `EncryptAndHash(plaintext)`. */
  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.cipher.encryptWithAd(this.#h, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  /** `DecryptAndHash(ciphertext)`; throws `NoiseError` (`E_NOISE_DECRYPT`). */
  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const plaintext = this.cipher.decryptWithAd(this.#h, ciphertext);
    this.mixHash(ciphertext);
    return plaintext;
  }

  /** `Split()`: the initiator-to-responder and responder-to-initiator cipher states. */
  split(): [CipherState, CipherState] {
    const [k1, k2] = hkdf(this.#ck, EMPTY);
    return [new CipherState(k1), new CipherState(k2)];
  }
}

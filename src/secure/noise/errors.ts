/**
 * `NoiseError`, the error type of Noise misuse and local limits, and its
 * stable codes.
 *
 * @module
 */
import { MaculaError } from "../../util/errors.ts";

/** Stable codes of `NoiseError`. */
export type NoiseErrorCode =
  /** AEAD authentication failed: the ciphertext, tag, key, nonce or AD differ. */
  | "E_NOISE_DECRYPT"
  /** The nonce counter reached 2^64-1; the cipher state must not be used again. */
  | "E_NOISE_NONCE_EXHAUSTED"
  /** A message would exceed 65535 bytes. */
  | "E_NOISE_OVERSIZED"
  /** The API was used out of order (wrong turn, handshake failed or finished, split twice). */
  | "E_NOISE_STATE";

/**
 * A Noise-level failure that is not (only) about bad input: misuse, nonce
 * exhaustion, an oversized outgoing message, or an AEAD authentication
 * failure reported by `CipherState` (the handshake and the secure channel
 * turn the latter into a `WireError`).
 *
 * @example
 * ```ts
 * import { CipherState, NoiseError } from "../noise.ts";
 * try {
 *   new CipherState(new Uint8Array(32)).decryptWithAd(new Uint8Array(0), new Uint8Array(16));
 * } catch (e) {
 *   if (e instanceof NoiseError) console.log(e.code); // "E_NOISE_DECRYPT"
 * }
 * ```
 */
export class NoiseError extends MaculaError {
  /** A Noise error with a stable `code`. */
  constructor(code: NoiseErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}

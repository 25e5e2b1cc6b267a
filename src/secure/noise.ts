/**
 * The Noise Protocol Framework (revision 34), restricted to the one protocol
 * Macula speaks: `Noise_XX_25519_ChaChaPoly_SHA256`. This is the public entry
 * point; each part lives in its own module under `noise/`.
 *
 * Pure and synchronous: no I/O, no timers. Crypto (X25519,
 * ChaCha20-Poly1305, SHA-256, HKDF) comes from `src/crypto`: `node:crypto`
 * where present (the fastest under Deno and Node), else pure JavaScript.
 *
 * - `X25519KeyPair`: the DH functions (`noise/x25519.ts`).
 * - `CipherState`: a key and a 64-bit nonce counter (spec §5.1, `noise/cipher-state.ts`).
 * - `SymmetricState`: chaining key and handshake hash (spec §5.2, `noise/symmetric-state.ts`).
 * - `XXHandshake`: the handshake state of the XX pattern (spec §5.3, §7.5, `noise/handshake.ts`):
 *
 *   ```
 *   -> e
 *   <- e, ee, s, es
 *   -> s, se
 *   ```
 *
 * Failures caused by bytes from the peer (truncated, oversized, tampered,
 * low-order keys) throw `WireError`; misuse and local limits throw
 * `NoiseError` (`noise/errors.ts`).
 *
 * @example
 * ```ts
 * import { XXHandshake } from "./noise.ts";
 * const alice = new XXHandshake({ initiator: true });
 * const bob = new XXHandshake({ initiator: false });
 * bob.readMessage(alice.writeMessage());
 * alice.readMessage(bob.writeMessage());
 * bob.readMessage(alice.writeMessage());
 * alice.split().handshakeHash; // equals bob.split().handshakeHash
 * ```
 *
 * @module
 */
export {
  DH_LENGTH,
  HASH_LENGTH,
  KEY_LENGTH,
  MAX_MESSAGE_LENGTH,
  PROTOCOL_NAME,
  TAG_LENGTH,
} from "./noise/constants.ts";
export { NoiseError, type NoiseErrorCode } from "./noise/errors.ts";
export { X25519KeyPair } from "./noise/x25519.ts";
export { CipherState } from "./noise/cipher-state.ts";
export { hkdf, SymmetricState } from "./noise/symmetric-state.ts";
export { XXHandshake, type XXHandshakeOptions, type XXHandshakeResult } from "./noise/handshake.ts";

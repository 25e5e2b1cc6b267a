/**
 * The sizes and the protocol name of `Noise_XX_25519_ChaChaPoly_SHA256`,
 * shared by every part of the Noise implementation.
 *
 * @example
 * ```ts
 * import { MAX_MESSAGE_LENGTH, TAG_LENGTH } from "./constants.ts";
 * const maxPlaintext = MAX_MESSAGE_LENGTH - TAG_LENGTH; // 65519
 * ```
 *
 * @module
 */

/** The full Noise protocol name; also the initial handshake hash (it is exactly 32 bytes). */
export const PROTOCOL_NAME = "Noise_XX_25519_ChaChaPoly_SHA256";
/** Length of an X25519 public key and of a DH output. */
export const DH_LENGTH = 32;
/** Length of a SHA-256 output (the chaining key and handshake hash). */
export const HASH_LENGTH = 32;
/** Length of a ChaCha20-Poly1305 key. */
export const KEY_LENGTH = 32;
/** Length of the Poly1305 authentication tag. */
export const TAG_LENGTH = 16;
/** Largest Noise message, handshake or transport (spec §3). */
export const MAX_MESSAGE_LENGTH = 65535;

/**
 * HKDF-SHA256 (RFC 5869) over a backend's HMAC-SHA256.
 *
 * @module
 */
import type { CryptoBackend } from "./types.ts";

/** Most bytes HKDF-SHA256 can produce (255 blocks of 32). */
export const HKDF_MAX_LENGTH = 255 * 32;

/**
 * HKDF-SHA256 with `backend`'s HMAC: `length` bytes from the input key
 * material `ikm`, with `salt` and `info`.
 *
 * @example
 * ```ts
 * import { hkdf } from "./hkdf.ts";
 * import { nobleBackend } from "./noble.ts";
 * hkdf(nobleBackend, new Uint8Array(32), Uint8Array.of(1), new Uint8Array(0), 64).length; // 64
 * ```
 */
export function hkdf(
  backend: CryptoBackend,
  salt: Uint8Array,
  ikm: Uint8Array,
  info: Uint8Array,
  length: number,
): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > HKDF_MAX_LENGTH) {
    throw new RangeError(`HKDF-SHA256 output is 0 to ${HKDF_MAX_LENGTH} bytes, asked for ${length}`);
  }
  const prk = backend.hmacSha256(salt, [ikm]);
  const out = new Uint8Array(length);
  let block: Uint8Array = new Uint8Array(0);
  for (let i = 0, offset = 0; offset < length; i++, offset += 32) {
    block = backend.hmacSha256(prk, [block, info, Uint8Array.of(i + 1)]);
    out.set(block.subarray(0, Math.min(32, length - offset)), offset);
  }
  return out;
}

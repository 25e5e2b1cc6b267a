/**
 * The input checks that make Ed25519 verification strict on every backend,
 * before any curve arithmetic: a public key must be a canonical encoding of a
 * point that is not of small order, `R` must be canonical, and `S` must be
 * below the group order `L` (RFC 8032 §5.1.7; the weak cases of "Taming the
 * many EdDSAs", Chalkias et al., 2020).
 *
 * Without them `node:crypto` (OpenSSL) accepts a small-order public key (the
 * identity point, for one) with a trivial signature for any message. The
 * checks are byte comparisons, cheap enough for every verification, and
 * `src/identity` uses the public-key check to refuse such keys as node ids.
 *
 * @module
 */

/** The field prime p = 2^255 - 19, little-endian. */
const P_BYTES = littleEndian("7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed");
/** The group order L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
const L_BYTES = littleEndian("1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed");

/**
 * The y-coordinates (little-endian, sign bit clear) of the eight points of
 * order dividing 8: the identity (y = 1), the point of order 2 (y = p - 1),
 * the two of order 4 (y = 0) and the four of order 8 (two values of y). Every
 * point with one of these y is of small order, whatever its sign bit.
 */
const SMALL_ORDER_Y: readonly Uint8Array[] = [
  "0000000000000000000000000000000000000000000000000000000000000001",
  "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffec",
  "0000000000000000000000000000000000000000000000000000000000000000",
  "05fc536d880238b13933c6d305acdfd5f098eff289f4c345b027b2c28f95e826",
  "7a03ac9277fdc74ec6cc392cfa53202a0f67100d760b3cba4fd84d3d706a17c7",
].map(littleEndian);

function littleEndian(bigEndianHex: string): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[31 - i] = parseInt(bigEndianHex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Compare the 32-byte little-endian number at `bytes[offset..]` (top bit masked if `maskSign`) with `limit`. */
function lessThan(bytes: Uint8Array, offset: number, limit: Uint8Array, maskSign: boolean): boolean {
  for (let i = 31; i >= 0; i--) {
    const b = i === 31 && maskSign ? bytes[offset + i] & 0x7f : bytes[offset + i];
    if (b !== limit[i]) return b < limit[i];
  }
  return false;
}

/** Is the y-coordinate at `bytes[offset..]` (sign bit ignored) equal to `y`? */
function sameY(bytes: Uint8Array, offset: number, y: Uint8Array): boolean {
  if ((bytes[offset + 31] & 0x7f) !== y[31] || bytes[offset] !== y[0]) return false;
  for (let i = 1; i < 31; i++) if (bytes[offset + i] !== y[i]) return false;
  return true;
}

/** Is the 32-byte point encoding at `bytes[offset..]` canonical (y < p, and no sign bit on x = 0)? */
function canonicalPoint(bytes: Uint8Array, offset: number): boolean {
  if (!lessThan(bytes, offset, P_BYTES, true)) return false;
  if ((bytes[offset + 31] & 0x80) === 0) return true;
  return !sameY(bytes, offset, SMALL_ORDER_Y[0]) && !sameY(bytes, offset, SMALL_ORDER_Y[1]); // x = 0 there
}

/**
 * Is `publicKey` an Ed25519 public key Macula accepts: 32 bytes, the
 * canonical encoding (y < p) of a point that is not of small order? (Whether
 * the point is on the curve at all is left to verification, which needs the
 * curve arithmetic.)
 *
 * @example
 * ```ts
 * import { isStrictEd25519PublicKey } from "./ed25519-strict.ts";
 * const identity = new Uint8Array(32);
 * identity[0] = 1;
 * isStrictEd25519PublicKey(identity); // false: the identity point
 * ```
 */
export function isStrictEd25519PublicKey(publicKey: Uint8Array): boolean {
  if (publicKey.length !== 32 || !lessThan(publicKey, 0, P_BYTES, true)) return false;
  for (const y of SMALL_ORDER_Y) if (sameY(publicKey, 0, y)) return false;
  return true;
}

/**
 * Are `publicKey` and `signature` acceptable inputs to a strict Ed25519
 * verification: a strict public key (see `isStrictEd25519PublicKey`), and a
 * 64-byte signature whose `R` is canonical and whose `S` is below `L`?
 * A `false` means the signature is invalid; a `true` still needs the curve
 * check.
 */
export function strictEd25519Inputs(publicKey: Uint8Array, signature: Uint8Array): boolean {
  return signature.length === 64 && isStrictEd25519PublicKey(publicKey) && canonicalPoint(signature, 0) &&
    lessThan(signature, 32, L_BYTES, false);
}

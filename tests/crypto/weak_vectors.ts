/**
 * Weak Ed25519 inputs, derived here from the curve equation (not copied from a
 * list): the eight points of small order in every encoding, canonical or not,
 * and the other non-canonical encodings ("Taming the many EdDSAs", Chalkias
 * et al. 2020). Each point's order is checked with `@noble/curves` by
 * multiplying it by 8.
 */
import { ed25519 } from "npm:@noble/curves@2.4.0/ed25519.js";

/** The field prime 2^255 - 19. */
export const P = 2n ** 255n - 19n;
/** The prime order of the base point's subgroup. */
export const L = 2n ** 252n + 27742317777372353535851937790883648493n;
/** The curve constant d = -121665/121666. */
const D = mod(-121665n * inverse(121666n));

function mod(a: bigint): bigint {
  const r = a % P;
  return r < 0n ? r + P : r;
}

function pow(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = mod(result * b);
    b = mod(b * b);
  }
  return result;
}

function inverse(a: bigint): bigint {
  return pow(a, P - 2n);
}

/** A square root mod P (P = 5 mod 8), or undefined if `a` is not a square. */
function sqrt(a: bigint): bigint | undefined {
  a = mod(a);
  let r = pow(a, (P + 3n) / 8n);
  if (mod(r * r) === a) return r;
  r = mod(r * pow(2n, (P - 1n) / 4n)); // times sqrt(-1)
  return mod(r * r) === a ? r : undefined;
}

/** 32 little-endian bytes of `y`, with the sign bit set if `sign`. */
export function encodePoint(y: bigint, sign: boolean): Uint8Array {
  const out = new Uint8Array(32);
  let v = y;
  for (let i = 0; i < 32; i++, v >>= 8n) out[i] = Number(v & 0xffn);
  if (sign) out[31] |= 0x80;
  return out;
}

/** 32 little-endian bytes of a scalar below 2^256. */
export function encodeScalar(s: bigint): Uint8Array {
  return encodePoint(s, false);
}

/** The eight points of order dividing 8, as (x, y). */
function torsionPoints(): Array<[bigint, bigint]> {
  const points: Array<[bigint, bigint]> = [[0n, 1n], [0n, P - 1n]]; // identity; order 2
  const i = sqrt(-1n)!; // y = 0 gives -x^2 = 1: order 4
  points.push([i, 0n], [mod(-i), 0n]);
  // Order 8: doubling gives y = 0, i.e. x^2 = -y^2; on -x^2 + y^2 = 1 + d x^2 y^2 that is
  // d y^4 + 2 y^2 - 1 = 0, so y^2 = (-1 ± sqrt(1 + d)) / d.
  const root = sqrt(1n + D)!;
  for (const y2 of [mod((-1n + root) * inverse(D)), mod((-1n - root) * inverse(D))]) {
    const y = sqrt(y2);
    const x = y === undefined ? undefined : sqrt(-y2);
    if (y === undefined || x === undefined) continue;
    for (const sx of [x, mod(-x)]) for (const sy of [y, mod(-y)]) points.push([sx, sy]);
  }
  if (points.length !== 8) throw new Error(`expected 8 torsion points, found ${points.length}`);
  return points;
}

/** One weak encoding and what is wrong with it. */
export interface WeakKey {
  readonly bytes: Uint8Array;
  readonly why: string;
}

/** Every encoding of every small-order point (canonical and not). */
export function smallOrderEncodings(): WeakKey[] {
  const out: WeakKey[] = [];
  for (const [x, y] of torsionPoints()) {
    const odd = (x & 1n) === 1n;
    out.push({ bytes: encodePoint(y, odd), why: `small order, canonical (y=${y})` });
    if (x === 0n) out.push({ bytes: encodePoint(y, true), why: `small order, x = 0 with the sign bit (y=${y})` });
    if (y + P < 2n ** 255n) {
      out.push({ bytes: encodePoint(y + P, odd), why: `small order, y + p (y=${y})` });
      if (x === 0n) out.push({ bytes: encodePoint(y + P, true), why: `small order, y + p and sign (y=${y})` });
      else out.push({ bytes: encodePoint(y + P, !odd), why: `small order, y + p, other sign (y=${y})` });
    }
  }
  return out;
}

/** Non-canonical encodings (y >= p) of points that are not of small order. */
export function nonCanonicalEncodings(): WeakKey[] {
  const out: WeakKey[] = [];
  for (let y = 2n; y < 19n; y++) {
    for (const sign of [false, true]) {
      const bytes = encodePoint(y + P, sign);
      if (decodes(encodePoint(y, sign))) out.push({ bytes, why: `y = ${y} + p` });
    }
  }
  return out;
}

/** Does `bytes` decode to a curve point (leniently, as ZIP-215 would)? */
export function decodes(bytes: Uint8Array): boolean {
  try {
    ed25519.Point.fromBytes(bytes, true);
    return true;
  } catch {
    return false;
  }
}

/** Is the point `bytes` decodes to (leniently) of order dividing 8? Checked by multiplying by 8. */
export function hasSmallOrder(bytes: Uint8Array): boolean {
  const point = ed25519.Point.fromBytes(bytes, true);
  return point.multiplyUnsafe(8n).is0();
}

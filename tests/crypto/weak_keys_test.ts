/**
 * Weak Ed25519 inputs are refused by both backends: small-order public keys
 * (in every encoding), non-canonical public keys, non-canonical `R` and
 * `S >= L`. The vectors come from `weak_vectors.ts`, derived from the curve
 * equation and checked against `@noble/curves` here.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { ed25519 } from "npm:@noble/curves@2.4.0/ed25519.js";
import { sha512 } from "npm:@noble/hashes@2.4.0/sha2.js";
import { isStrictEd25519PublicKey, strictEd25519Inputs } from "../../src/crypto/ed25519-strict.ts";
import { nobleBackend } from "../../src/crypto/noble.ts";
import { nodeBackend } from "../../src/crypto/node.ts";
import type { CryptoBackend } from "../../src/crypto/types.ts";
import { concat, toHex, utf8 } from "../../src/util/bytes.ts";
import {
  decodes,
  encodePoint,
  encodeScalar,
  hasSmallOrder,
  L,
  nonCanonicalEncodings,
  P,
  smallOrderEncodings,
} from "./weak_vectors.ts";

const BACKENDS: CryptoBackend[] = [nodeBackend!, nobleBackend];
const IDENTITY = encodePoint(1n, false);
const ZERO_S = new Uint8Array(32);

function littleEndianToBigInt(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
  return v;
}

/** Does (R, S) satisfy the cofactorless equation [S]B = R + [k]A (what OpenSSL checks) for `message`? */
function satisfiesEquation(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const { Point } = ed25519;
  const k = littleEndianToBigInt(sha512(concat(signature.subarray(0, 32), publicKey, message))) % L;
  const s = littleEndianToBigInt(signature.subarray(32));
  const A = Point.fromBytes(publicKey, true);
  const R = Point.fromBytes(signature.subarray(0, 32), true);
  const left = s % L === 0n ? Point.ZERO : Point.BASE.multiply(s % L);
  const kA = k === 0n ? Point.ZERO : A.multiplyUnsafe(k);
  return s < 2n ** 256n && left.equals(R.add(kA));
}

Deno.test("weak vectors: all 8 small-order points, each of order dividing 8 (checked by [8]P = 0)", () => {
  const all = smallOrderEncodings();
  const canonical = all.filter((v) => v.why.includes("canonical (")).map((v) => toHex(v.bytes));
  assertEquals(new Set(canonical).size, 8, "eight distinct points");
  for (const v of all) {
    assert(decodes(v.bytes), `${v.why} decodes (leniently)`);
    assert(hasSmallOrder(v.bytes), `${v.why} has order dividing 8`);
  }
  assert(all.length >= 14, "non-canonical encodings too (y + p, sign bit on x = 0)");
  for (const v of nonCanonicalEncodings()) assert(decodes(v.bytes) && !hasSmallOrder(v.bytes), v.why);
  assert(nonCanonicalEncodings().length > 0);
});

Deno.test("small-order public keys: the trivial forgery satisfies the equation, and no backend accepts it", () => {
  for (const key of smallOrderEncodings()) {
    assert(!isStrictEd25519PublicKey(key.bytes), `strict check refuses ${key.why}`);
    // S = 0: [0]B = R + [k]A holds for R = -[k]A, one of the eight small-order points, for every message.
    let forged = 0;
    for (let i = 0; i < 8; i++) {
      const message = utf8(`any message ${i}`);
      for (const r of smallOrderEncodings().map((v) => v.bytes)) {
        const signature = concat(r, ZERO_S);
        if (decodes(r) && satisfiesEquation(key.bytes, message, signature)) forged++;
        for (const backend of BACKENDS) {
          assert(!backend.ed25519Verify(key.bytes, message, signature), `${backend.name} accepted ${key.why}`);
        }
      }
    }
    assert(forged > 0, `a real forgery exists for ${key.why}`);
  }
});

Deno.test("non-canonical public keys (y >= p) are refused", () => {
  for (const v of nonCanonicalEncodings()) {
    assert(!isStrictEd25519PublicKey(v.bytes), v.why);
    for (const backend of BACKENDS) assert(!backend.ed25519Verify(v.bytes, utf8("m"), new Uint8Array(64)), v.why);
  }
  // The largest y values: p itself and everything above, whatever the sign bit.
  for (let y = P; y < 2n ** 255n; y++) {
    assert(!isStrictEd25519PublicKey(encodePoint(y, false)) && !isStrictEd25519PublicKey(encodePoint(y, true)));
  }
  assert(!isStrictEd25519PublicKey(new Uint8Array(31)) && !isStrictEd25519PublicKey(new Uint8Array(33)));
});

Deno.test("S >= L is refused even though [S]B = [S mod L]B, on both backends", () => {
  for (const backend of BACKENDS) {
    const key = backend.ed25519FromSeed(crypto.getRandomValues(new Uint8Array(32)));
    const message = utf8("pay 10");
    const signature = key.sign(message);
    assert(backend.ed25519Verify(key.publicKey, message, signature), "the honest signature verifies");
    const s = littleEndianToBigInt(signature.subarray(32));
    for (const bigger of [s + L, s + 2n * L, s + 15n * L]) {
      if (bigger >= 2n ** 256n) continue;
      const malleated = concat(signature.subarray(0, 32), encodeScalar(bigger));
      assert(satisfiesEquation(key.publicKey, message, malleated), "the malleated signature satisfies the equation");
      assert(!backend.ed25519Verify(key.publicKey, message, malleated), `${backend.name} accepted S + k·L`);
    }
  }
  const key = nodeBackend!.ed25519FromSeed(new Uint8Array(32).fill(3)).publicKey;
  const r = encodePoint(9n, false);
  assert(strictEd25519Inputs(key, concat(r, encodeScalar(L - 1n))), "S = L - 1 passes the byte checks");
  assert(!strictEd25519Inputs(key, concat(r, encodeScalar(L))), "S = L");
  assert(!strictEd25519Inputs(key, concat(r, new Uint8Array(32).fill(0xff))), "S = 2^256 - 1");
});

Deno.test("non-canonical R is refused (y >= p, or the sign bit on x = 0)", () => {
  const key = nodeBackend!.ed25519FromSeed(new Uint8Array(32).fill(4)).publicKey;
  for (const r of [encodePoint(P, false), encodePoint(P + 1n, false), encodePoint(P + 1n, true)]) {
    assert(!strictEd25519Inputs(key, concat(r, ZERO_S)), `R = ${toHex(r)}`);
  }
  assert(!strictEd25519Inputs(key, concat(encodePoint(1n, true), ZERO_S)), "identity with the sign bit");
  assert(!strictEd25519Inputs(key, concat(encodePoint(P - 1n, true), ZERO_S)), "order 2 with the sign bit");
  assert(strictEd25519Inputs(key, concat(encodePoint(P - 20n, true), ZERO_S)), "a large canonical y is fine");
  assert(strictEd25519Inputs(key, concat(IDENTITY, ZERO_S)), "a canonical small-order R is left to the curve check");
});

Deno.test("honest keys pass: no false positives over 2,000 fresh keys, on both backends", () => {
  for (let i = 0; i < 2000; i++) {
    const backend = BACKENDS[i % 2];
    const key = backend.ed25519FromSeed(crypto.getRandomValues(new Uint8Array(32)));
    assert(isStrictEd25519PublicKey(key.publicKey), `refused ${toHex(key.publicKey)}`);
    if (i % 50 === 0) {
      const message = utf8(`m${i}`);
      for (const b of BACKENDS) assert(b.ed25519Verify(key.publicKey, message, key.sign(message)));
    }
  }
});

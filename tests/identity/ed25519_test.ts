import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { KeyPair, verify } from "../../src/identity/ed25519.ts";
import { ed25519 } from "npm:@noble/curves@2.4.0/ed25519.js";
import { utf8 } from "../../src/util/bytes.ts";

Deno.test("sign/verify round trip and rejection of tampering", () => {
  const kp = KeyPair.generate();
  const msg = utf8("hello mesh");
  const sig = kp.sign(msg);
  assertEquals(sig.length, 64);
  assert(verify(kp.publicKey, msg, sig));
  assert(!verify(kp.publicKey, utf8("hello mesh!"), sig));
  const bad = sig.slice();
  bad[10] ^= 1;
  assert(!verify(kp.publicKey, msg, bad));
  assert(!verify(KeyPair.generate().publicKey, msg, sig));
});

Deno.test("verify never throws on malformed keys or signatures", () => {
  const msg = utf8("x");
  assert(!verify(new Uint8Array(31), msg, new Uint8Array(64)));
  assert(!verify(new Uint8Array(32), msg, new Uint8Array(63)));
  assert(!verify(new Uint8Array(32).fill(0xff), msg, new Uint8Array(64)));
});

Deno.test("interoperates with @noble/curves (independent implementation)", () => {
  const kp = KeyPair.generate();
  const seed = kp.exportSeed();
  assertEquals(ed25519.getPublicKey(seed), kp.publicKey);
  const msg = utf8("interop");
  assert(ed25519.verify(kp.sign(msg), msg, kp.publicKey));
  assert(verify(kp.publicKey, msg, ed25519.sign(msg, seed)));
});

Deno.test("fromSeed validates length and is deterministic", () => {
  assertThrows(() => KeyPair.fromSeed(new Uint8Array(31)), RangeError);
  const seed = crypto.getRandomValues(new Uint8Array(32));
  assertEquals(KeyPair.fromSeed(seed).publicKey, KeyPair.fromSeed(seed).publicKey);
});

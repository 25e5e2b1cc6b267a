/**
 * Known-answer vectors (RFC 8032, RFC 7748, RFC 8439, FIPS 180-4, RFC 4231,
 * RFC 5869) for every primitive, on each backend: `node:crypto` and the
 * pure-JavaScript one.
 */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { hkdf } from "../../src/crypto/hkdf.ts";
import { nobleBackend } from "../../src/crypto/noble.ts";
import { nodeBackend } from "../../src/crypto/node.ts";
import type { CryptoBackend } from "../../src/crypto/types.ts";
import { fromHex, toHex, utf8 } from "../../src/util/bytes.ts";

const BACKENDS: CryptoBackend[] = [nodeBackend!, nobleBackend];

const ED25519 = [
  {
    seed: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    publicKey: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    message: "",
    signature:
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
  },
  {
    seed: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
    publicKey: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
    message: "72",
    signature:
      "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
  },
];

const X25519 = {
  alicePrivate: "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
  alicePublic: "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
  bobPrivate: "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
  bobPublic: "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
  shared: "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
};

const AEAD = {
  key: "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
  nonce: "070000004041424344454647",
  ad: "50515253c0c1c2c3c4c5c6c7",
  plaintext:
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
  sealed:
    "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e06" +
    "0b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586ce" +
    "c64b6116" + "1ae10b594f09e26a7e902ecbd0600691",
};

for (const backend of BACKENDS) {
  const name = backend.name;

  Deno.test(`crypto ${name}: Ed25519 RFC 8032 vectors (key, signature, verification)`, () => {
    for (const v of ED25519) {
      const key = backend.ed25519FromSeed(fromHex(v.seed));
      assertEquals(toHex(key.publicKey), v.publicKey);
      const signature = key.sign(fromHex(v.message));
      assertEquals(toHex(signature), v.signature);
      assert(backend.ed25519Verify(fromHex(v.publicKey), fromHex(v.message), signature));
      const bad = signature.slice();
      bad[0] ^= 1;
      assert(!backend.ed25519Verify(fromHex(v.publicKey), fromHex(v.message), bad));
      assert(!backend.ed25519Verify(fromHex(v.publicKey), utf8("other"), signature));
    }
    assert(!backend.ed25519Verify(new Uint8Array(31), new Uint8Array(0), new Uint8Array(64)));
    assert(!backend.ed25519Verify(new Uint8Array(32).fill(0xff), new Uint8Array(0), new Uint8Array(64)));
  });

  Deno.test(`crypto ${name}: Ed25519 rejects a non-canonical S (s + L)`, () => {
    const v = ED25519[0];
    const signature = fromHex(v.signature);
    // S += L (the group order): the same point equation, but S is no longer below L.
    const L = fromHex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
    let carry = 0;
    for (let i = 0; i < 32; i++) {
      const sum = signature[32 + i] + L[i] + carry;
      signature[32 + i] = sum & 0xff;
      carry = sum >> 8;
    }
    assert(!backend.ed25519Verify(fromHex(v.publicKey), fromHex(v.message), signature));
  });

  Deno.test(`crypto ${name}: X25519 RFC 7748 §6.1 vector`, () => {
    const alice = backend.x25519FromPrivate(fromHex(X25519.alicePrivate));
    const bob = backend.x25519FromPrivate(fromHex(X25519.bobPrivate));
    assertEquals(toHex(alice.publicKey), X25519.alicePublic);
    assertEquals(toHex(bob.publicKey), X25519.bobPublic);
    assertEquals(toHex(alice.dh(bob.publicKey)), X25519.shared);
    assertEquals(toHex(bob.dh(alice.publicKey)), X25519.shared);
  });

  Deno.test(`crypto ${name}: X25519 with a low-order point throws or yields zeros`, () => {
    const alice = backend.x25519FromPrivate(fromHex(X25519.alicePrivate));
    let shared: Uint8Array | undefined;
    try {
      shared = alice.dh(new Uint8Array(32)); // u = 0: a point of small order
    } catch {
      shared = undefined;
    }
    assert(shared === undefined || shared.every((b) => b === 0));
  });

  Deno.test(`crypto ${name}: ChaCha20-Poly1305 RFC 8439 §2.8.2 vector`, () => {
    const key = backend.aeadKey(fromHex(AEAD.key));
    const plaintext = utf8(AEAD.plaintext);
    const out = new Uint8Array(plaintext.length + 16 + 3);
    key.seal(fromHex(AEAD.nonce), fromHex(AEAD.ad), plaintext, out, 3);
    assertEquals(toHex(out.subarray(3)), AEAD.sealed);
    assertEquals(key.open(fromHex(AEAD.nonce), fromHex(AEAD.ad), fromHex(AEAD.sealed)), plaintext);
    const tampered = fromHex(AEAD.sealed);
    tampered[5] ^= 1;
    assertThrows(() => key.open(fromHex(AEAD.nonce), fromHex(AEAD.ad), tampered));
    assertThrows(() => key.open(fromHex(AEAD.nonce), new Uint8Array(0), fromHex(AEAD.sealed)));
  });

  Deno.test(`crypto ${name}: SHA-256 FIPS 180-4 vectors`, () => {
    assertEquals(toHex(backend.sha256([])), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assertEquals(
      toHex(backend.sha256([utf8("abc")])),
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    assertEquals(toHex(backend.sha256([utf8("a"), utf8(""), utf8("bc")])), toHex(backend.sha256([utf8("abc")])));
    assertEquals(
      toHex(backend.sha256([utf8("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")])),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    );
  });

  Deno.test(`crypto ${name}: HMAC-SHA256 RFC 4231 vectors`, () => {
    assertEquals(
      toHex(backend.hmacSha256(new Uint8Array(20).fill(0x0b), [utf8("Hi There")])),
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    );
    assertEquals(
      toHex(backend.hmacSha256(utf8("Jefe"), [utf8("what do ya "), utf8("want for nothing?")])),
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
  });

  Deno.test(`crypto ${name}: HKDF-SHA256 RFC 5869 test case 1`, () => {
    const okm = hkdf(
      backend,
      fromHex("000102030405060708090a0b0c"),
      new Uint8Array(22).fill(0x0b),
      fromHex("f0f1f2f3f4f5f6f7f8f9"),
      42,
    );
    assertEquals(toHex(okm), "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
    assertThrows(
      () => hkdf(backend, new Uint8Array(0), new Uint8Array(0), new Uint8Array(0), 255 * 32 + 1),
      RangeError,
    );
  });
}

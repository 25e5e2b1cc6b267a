import assert from "node:assert/strict";
import { createCipheriv, hkdfSync } from "node:crypto";
import {
  CipherState,
  hkdf,
  MAX_MESSAGE_LENGTH,
  NoiseError,
  PROTOCOL_NAME,
  SymmetricState,
  X25519KeyPair,
  XXHandshake,
  type XXHandshakeResult,
} from "../../src/secure/noise.ts";
import { WireError } from "../../src/wire/errors.ts";
import { fromHex, plain, toHex, utf8 } from "../../src/util/bytes.ts";

interface Vector {
  source: string;
  init_prologue: string;
  init_static: string;
  init_ephemeral: string;
  resp_prologue: string;
  resp_static: string;
  resp_ephemeral: string;
  handshake_hash?: string;
  messages: { payload: string; ciphertext: string }[];
}

// Test-vector data for Noise_XX_25519_ChaChaPoly_SHA256.
const VECTORS: Vector[] = [
  {
    // cacophony.txt, as in mcginty/snow tests/vectors/cacophony.txt at commit
    // aabed3159deec0a0dfe3d5601c43322d84700c94 (older copies carry a stale
    // handshake_hash; the messages are identical)
    source: "cacophony",
    init_prologue: "4a6f686e2047616c74",
    init_static: "e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1",
    init_ephemeral: "893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a",
    resp_prologue: "4a6f686e2047616c74",
    resp_static: "4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893",
    resp_ephemeral: "bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b",
    handshake_hash: "c8e5f64e846193be2a834104c2a009868d6c9f3bd3c186299888b488b2f1f58e",
    messages: [
      {
        payload: "4c756477696720766f6e204d69736573",
        ciphertext: "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c79444c756477696720766f6e204d69736573",
      },
      {
        payload: "4d757272617920526f746862617264",
        ciphertext:
          "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f14480884381cbad1f276e038c48378ffce2b65285e08d6b68aaa3629a5a8639392490e5b9bd5269c2f1e4f488ed8831161f19b7815528f8982ffe09be9b5c412f8a0db50f8814c7194e83f23dbd8d162c9326ad",
      },
      {
        payload: "462e20412e20486179656b",
        ciphertext:
          "c7195ffacac1307ff99046f219750fc47693e23c3cb08b89c2af808b444850a80ae475b9df0f169ae80a89be0865b57f58c9fea0d4ec82a286427402f113e4b6ae769a1d95941d49b25030",
      },
      {
        payload: "4361726c204d656e676572",
        ciphertext: "96763ed773f8e47bb3712f0e29b3060ffc956ffc146cee53d5e1df",
      },
      {
        payload: "4a65616e2d426170746973746520536179",
        ciphertext: "3e40f15f6f3a46ae446b253bf8b1d9ffb6ed9b174d272328ff91a7e2e5c79c07f5",
      },
      {
        payload: "457567656e2042f6686d20766f6e2042617765726b",
        ciphertext: "eb3f3515110702e047a6c9da4478b6ead94873c11c0f2d710ddb3f09fce024b3a58502ae3f",
      },
    ],
  },
  {
    // snow.txt (mcginty/snow tests/vectors/snow.txt), empty psk lists
    source: "snow",
    init_prologue:
      "5468657265206973206e6f20726967687420616e642077726f6e672e2054686572652773206f6e6c792066756e20616e6420626f72696e672e",
    init_static: "7dec208517a3b81a2861d7a71266d5d6dc944c5a8816634a86fe63198a0148ee",
    init_ephemeral: "a32daf21e93c0131495ce1d903181fde81cc46937daaeb990bae7c992709421e",
    resp_prologue:
      "5468657265206973206e6f20726967687420616e642077726f6e672e2054686572652773206f6e6c792066756e20616e6420626f72696e672e",
    resp_static: "4d0aed5098e3b4ef20357e9f686ce66204c792b358da2e475017d6c485304881",
    resp_ephemeral: "4eece0f195d026db035ff987597c429d3ad3bcc2944df37d649528951b2a27c5",
    messages: [
      {
        payload: "d03c489139e645d0711a3c9e810d776b46a84912463fafa87b884eebf242dc34",
        ciphertext:
          "f9fa868ba97ab8a2686deccfaad5a484ee10a5bb85e3d1dce015a84797f92818d03c489139e645d0711a3c9e810d776b46a84912463fafa87b884eebf242dc34",
      },
      {
        payload: "d8190a92f7dc0c93dbea9118ba8055751fb7c6590c416ffbd419964132b99a85",
        ciphertext:
          "8c4e6fdb7d09d501a86f7eca5c234522751706ed409182c05cdf5f827d4dae47b81c6c5f43b025692c24391eefee725c17d8cb0fbe3e4abb8aedf42c4fd2592d4ea48ac08989d6ae8b4adae08b2c34087c808c7aa55a63c02b0fab9e930612336bd43eaea04d3c670a0a146691aa9cc9d357872320dc735dbc48580cffb553db",
      },
      {
        payload: "77891b19dcb92ef7c055b672c4a5aa7fdf1c84146b8b303459022729473ce254",
        ciphertext:
          "933ca6b5ed60df3df66121f0ab49a09e49efa45c613a86a3cecbf4c535cef2f83f72b42837b18e3572f2fdc2b74c331e2368a545cef54bdca081678ab0e9dd5348122459e0c034c851984d88ce610963d43cde6cfe73a67fbd5a63e8bfca96d0",
      },
      {
        payload: "d7efdf988072881941db045a42882433817555128fbf5663e56081712ec7d212",
        ciphertext: "54ef0ff0629e1aaa7685a2806ab111cba76b52331f2642276736f415868eacb69ab2577f3bda0cbf72f879685f6ed25f",
      },
      {
        payload: "dd7bf01a588bafb52c6cfba952e5d8fe35cc2b3f92b4730ae2474615157345ce",
        ciphertext: "356be70f110306d5c699bb834bb9d58d909e325924dfbec972e406e6f294dc63e1daebefe8a62a334facc8048ab4ad66",
      },
    ],
  },
];

const EMPTY = new Uint8Array(0);

for (const vector of VECTORS) {
  Deno.test(`noise: ${vector.source} vector for ${PROTOCOL_NAME} matches byte for byte`, () => {
    const initiator = new XXHandshake({
      initiator: true,
      prologue: fromHex(vector.init_prologue),
      staticKeyPair: X25519KeyPair.fromPrivateKey(fromHex(vector.init_static)),
      ephemeralKeyPair: X25519KeyPair.fromPrivateKey(
        fromHex(vector.init_ephemeral),
      ),
    });
    const responder = new XXHandshake({
      initiator: false,
      prologue: fromHex(vector.resp_prologue),
      staticKeyPair: X25519KeyPair.fromPrivateKey(fromHex(vector.resp_static)),
      ephemeralKeyPair: X25519KeyPair.fromPrivateKey(
        fromHex(vector.resp_ephemeral),
      ),
    });
    // Messages alternate, initiator first, through the handshake and on.
    for (let i = 0; i < 3; i++) {
      const { payload, ciphertext } = vector.messages[i];
      const [sender, receiver] = i % 2 === 0 ? [initiator, responder] : [responder, initiator];
      const written = sender.writeMessage(fromHex(payload));
      assert.equal(toHex(written), ciphertext, `handshake message ${i + 1}`);
      assert.equal(toHex(receiver.readMessage(written)), payload);
    }
    assert.ok(initiator.isComplete && responder.isComplete);
    const a = initiator.split();
    const b = responder.split();
    assert.deepEqual(a.handshakeHash, b.handshakeHash);
    if (vector.handshake_hash) {
      assert.equal(toHex(a.handshakeHash), vector.handshake_hash);
    }
    assert.deepEqual(
      a.remoteStaticKey,
      X25519KeyPair.fromPrivateKey(fromHex(vector.resp_static)).publicKey,
    );
    assert.deepEqual(
      b.remoteStaticKey,
      X25519KeyPair.fromPrivateKey(fromHex(vector.init_static)).publicKey,
    );
    for (let i = 3; i < vector.messages.length; i++) {
      const { payload, ciphertext } = vector.messages[i];
      const [send, receive] = i % 2 === 0 ? [a.send, b.receive] : [b.send, a.receive];
      const written = send.encryptWithAd(EMPTY, fromHex(payload));
      assert.equal(toHex(written), ciphertext, `transport message ${i + 1}`);
      assert.equal(toHex(receive.decryptWithAd(EMPTY, written)), payload);
    }
  });
}

/** Deterministic key material, so a handshake can be replayed exactly. */
function fixedKeys() {
  return {
    is: X25519KeyPair.generate(),
    ie: X25519KeyPair.generate(),
    rs: X25519KeyPair.generate(),
    re: X25519KeyPair.generate(),
  };
}

function pair(keys = fixedKeys(), prologue = utf8("test")) {
  const initiator = new XXHandshake({
    initiator: true,
    prologue,
    staticKeyPair: keys.is,
    ephemeralKeyPair: keys.ie,
  });
  const responder = new XXHandshake({
    initiator: false,
    prologue,
    staticKeyPair: keys.rs,
    ephemeralKeyPair: keys.re,
  });
  return { initiator, responder };
}

function complete(): { a: XXHandshakeResult; b: XXHandshakeResult } {
  const { initiator, responder } = pair();
  responder.readMessage(initiator.writeMessage());
  initiator.readMessage(responder.writeMessage(utf8("r")));
  responder.readMessage(initiator.writeMessage(utf8("i")));
  return { a: initiator.split(), b: responder.split() };
}

function flip(message: Uint8Array, index: number, mask = 0x01): Uint8Array {
  const copy = message.slice();
  copy[index] ^= mask;
  return copy;
}

function assertWireError(fn: () => unknown, code?: string): WireError {
  try {
    fn();
  } catch (error) {
    assert.ok(
      error instanceof WireError,
      `expected WireError, got ${String(error)}`,
    );
    if (code) assert.equal(error.code, code);
    return error;
  }
  assert.fail("expected a WireError");
}

Deno.test("noise: two independent handshakes interoperate in both directions", () => {
  const keys = fixedKeys();
  const { initiator, responder } = pair(keys, utf8("prologue"));
  assert.ok(initiator.isMyTurn && !responder.isMyTurn);
  assert.equal(
    toHex(responder.readMessage(initiator.writeMessage(utf8("hello")))),
    toHex(utf8("hello")),
  );
  assert.equal(initiator.remoteStaticKey, null);
  assert.equal(
    toHex(initiator.readMessage(responder.writeMessage(utf8("bob")))),
    toHex(utf8("bob")),
  );
  assert.deepEqual(initiator.remoteStaticKey, keys.rs.publicKey);
  assert.equal(responder.remoteStaticKey, null);
  assert.equal(
    toHex(responder.readMessage(initiator.writeMessage(utf8("alice")))),
    toHex(utf8("alice")),
  );
  assert.deepEqual(responder.remoteStaticKey, keys.is.publicKey);
  const a = initiator.split();
  const b = responder.split();
  assert.equal(a.handshakeHash.length, 32);
  assert.deepEqual(a.handshakeHash, b.handshakeHash);
  for (let i = 0; i < 10; i++) {
    const ping = utf8(`ping ${i}`);
    assert.deepEqual(
      b.receive.decryptWithAd(EMPTY, a.send.encryptWithAd(EMPTY, ping)),
      ping,
    );
    const pong = utf8(`pong ${i}`);
    assert.deepEqual(
      a.receive.decryptWithAd(EMPTY, b.send.encryptWithAd(EMPTY, pong)),
      pong,
    );
  }
  assert.equal(a.send.nonce, 10n);
  assert.equal(b.receive.nonce, 10n);
});

Deno.test("noise: a different prologue fails at message 2", () => {
  const initiator = new XXHandshake({ initiator: true, prologue: utf8("a") });
  const responder = new XXHandshake({ initiator: false, prologue: utf8("b") });
  responder.readMessage(initiator.writeMessage());
  const error = assertWireError(
    () => initiator.readMessage(responder.writeMessage()),
    "E_WIRE_MALFORMED",
  );
  assert.equal(error.messageType, "noise handshake message 2");
});

Deno.test("noise: every tampered byte of every handshake message is rejected", () => {
  const keys = fixedKeys();
  const payloads = [utf8("one"), utf8("two"), utf8("three")];
  const reference = pair(keys);
  const m1 = reference.initiator.writeMessage(payloads[0]);
  reference.responder.readMessage(m1);
  const m2 = reference.responder.writeMessage(payloads[1]);
  reference.initiator.readMessage(m2);
  const m3 = reference.initiator.writeMessage(payloads[2]);
  reference.responder.readMessage(m3);

  // Message 1 is plaintext: the responder accepts the change, but the
  // transcripts diverge and the initiator rejects message 2.
  for (let i = 0; i < m1.length; i++) {
    const { initiator, responder } = pair(keys);
    initiator.writeMessage(payloads[0]);
    let reply: Uint8Array;
    try {
      responder.readMessage(flip(m1, i));
      reply = responder.writeMessage(payloads[1]);
    } catch (error) {
      // a flipped bit can make the ephemeral key low-order: also a rejection
      assert.ok(error instanceof WireError);
      continue;
    }
    assertWireError(() => initiator.readMessage(reply), "E_WIRE_MALFORMED");
  }
  for (let i = 0; i < m2.length; i++) {
    const { initiator } = pair(keys);
    initiator.writeMessage(payloads[0]);
    assertWireError(() => initiator.readMessage(flip(m2, i)));
    assert.equal(initiator.remoteStaticKey, null);
    assert.ok(!initiator.isMyTurn);
    assert.throws(() => initiator.readMessage(m2), NoiseError);
  }
  for (let i = 0; i < m3.length; i++) {
    const { responder } = pair(keys);
    responder.readMessage(m1);
    responder.writeMessage(payloads[1]);
    assertWireError(() => responder.readMessage(flip(m3, i)));
    assert.equal(responder.remoteStaticKey, null);
    assert.equal(responder.isComplete, false);
  }
  // The untampered replay still works.
  const { initiator, responder } = pair(keys);
  initiator.writeMessage(payloads[0]);
  responder.readMessage(m1);
  responder.writeMessage(payloads[1]);
  assert.deepEqual(initiator.readMessage(m2), payloads[1]);
  assert.deepEqual(responder.readMessage(m3), payloads[2]);
});

Deno.test("noise: truncated, oversized and low-order messages are WireErrors", () => {
  const fresh = () => new XXHandshake({ initiator: false });
  assertWireError(
    () => fresh().readMessage(new Uint8Array(31)),
    "E_WIRE_TRUNCATED",
  );
  assertWireError(
    () => fresh().readMessage(new Uint8Array(MAX_MESSAGE_LENGTH + 1)),
    "E_WIRE_OVERSIZED",
  );
  // Message 2 shorter than e + encrypted s + tag.
  const initiator = new XXHandshake({ initiator: true });
  initiator.writeMessage();
  assertWireError(
    () => initiator.readMessage(new Uint8Array(95)),
    "E_WIRE_TRUNCATED",
  );

  // Low-order ephemeral keys (u = 0, u = 1 and an order-8 point).
  const lowOrder = [
    new Uint8Array(32),
    Uint8Array.of(1, ...new Uint8Array(31)),
    fromHex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
  ];
  for (const key of lowOrder) {
    const responder = fresh();
    responder.readMessage(key); // message 1 is just e
    assertWireError(() => responder.writeMessage(), "E_WIRE_INVALID");
    assert.throws(() => responder.writeMessage(), NoiseError);

    const init = new XXHandshake({ initiator: true });
    init.writeMessage();
    const msg2 = new Uint8Array(96);
    msg2.set(key);
    assertWireError(() => init.readMessage(msg2), "E_WIRE_INVALID");
  }
  assert.throws(
    () => X25519KeyPair.generate().dh(new Uint8Array(32)),
    WireError,
  );
});

Deno.test("noise: misuse is a NoiseError with code E_NOISE_STATE", () => {
  const { initiator, responder } = pair();
  const state = (fn: () => unknown) =>
    assert.throws(
      fn,
      (e) => e instanceof NoiseError && e.code === "E_NOISE_STATE",
    );
  state(() => responder.writeMessage());
  state(() => initiator.readMessage(new Uint8Array(32)));
  state(() => initiator.split());
  responder.readMessage(initiator.writeMessage());
  initiator.readMessage(responder.writeMessage());
  responder.readMessage(initiator.writeMessage());
  state(() => initiator.writeMessage());
  initiator.split();
  state(() => initiator.split());
  assert.throws(
    () =>
      new XXHandshake({ initiator: true }).writeMessage(
        new Uint8Array(MAX_MESSAGE_LENGTH),
      ),
    (e) => e instanceof NoiseError && e.code === "E_NOISE_OVERSIZED",
  );
});

Deno.test("noise: nonce layout is 4 zero bytes + 64-bit little-endian counter", () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const cs = new CipherState(key);
  cs.setNonce(0x0102030405060708n);
  const plaintext = utf8("nonce check");
  const ad = utf8("ad");
  const sealed = cs.encryptWithAd(ad, plaintext);
  assert.equal(cs.nonce, 0x0102030405060709n);

  const iv = fromHex("000000000807060504030201");
  const reference = createCipheriv("chacha20-poly1305", key, iv, {
    authTagLength: 16,
  });
  reference.setAAD(ad, { plaintextLength: plaintext.length });
  const expected = new Uint8Array([
    ...plain(reference.update(plaintext)),
    ...(reference.final(), plain(reference.getAuthTag())),
  ]);
  assert.equal(toHex(sealed), toHex(expected));
});

Deno.test("noise: nonce 2^64-1 is never used", () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const sender = new CipherState(key);
  const receiver = new CipherState(key);
  sender.setNonce((1n << 64n) - 2n);
  receiver.setNonce((1n << 64n) - 2n);
  const last = sender.encryptWithAd(EMPTY, utf8("last"));
  assert.deepEqual(receiver.decryptWithAd(EMPTY, last), utf8("last"));
  const exhausted = (e: unknown) => e instanceof NoiseError && e.code === "E_NOISE_NONCE_EXHAUSTED";
  assert.throws(() => sender.encryptWithAd(EMPTY, utf8("x")), exhausted);
  assert.throws(
    () => sender.encryptInto(utf8("x"), new Uint8Array(17), 0),
    exhausted,
  );
  assert.throws(() => receiver.decryptWithAd(EMPTY, last), exhausted);
  // The 2^32 carry works.
  const carry = new CipherState(key);
  carry.setNonce(0xffffffffn);
  carry.encryptWithAd(EMPTY, EMPTY);
  assert.equal(carry.nonce, 0x100000000n);
  assert.throws(() => carry.setNonce(1n << 64n), RangeError);
});

Deno.test("noise: failed decryption leaves the nonce alone; replays and reordering fail", () => {
  const { a, b } = complete();
  const first = a.send.encryptWithAd(EMPTY, utf8("first"));
  const second = a.send.encryptWithAd(EMPTY, utf8("second"));
  const decryptFails = (e: unknown) => e instanceof NoiseError && e.code === "E_NOISE_DECRYPT";
  assert.throws(
    () => b.receive.decryptWithAd(EMPTY, flip(first, 0)),
    decryptFails,
  );
  assert.throws(
    () => b.receive.decryptWithAd(EMPTY, first.subarray(0, 15)),
    decryptFails,
  );
  assert.throws(() => b.receive.decryptWithAd(EMPTY, second), decryptFails);
  assert.equal(b.receive.nonce, 0n);
  assert.deepEqual(b.receive.decryptWithAd(EMPTY, first), utf8("first"));
  assert.deepEqual(b.receive.decryptWithAd(EMPTY, second), utf8("second"));
  assert.throws(() => b.receive.decryptWithAd(EMPTY, first), decryptFails);
});

Deno.test("noise: encryptInto matches encryptWithAd with empty AD", () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const x = new CipherState(key);
  const y = new CipherState(key);
  for (const size of [0, 1, 100, 65519]) {
    const plaintext = crypto.getRandomValues(
      new Uint8Array(Math.min(size, 65536)),
    );
    const out = new Uint8Array(3 + size + 16);
    x.encryptInto(plaintext, out, 3);
    assert.equal(
      toHex(out.subarray(3)),
      toHex(y.encryptWithAd(EMPTY, plaintext)),
    );
  }
  assert.throws(
    () => x.encryptInto(utf8("abc"), new Uint8Array(18), 0),
    RangeError,
  );
  assert.throws(
    () => new CipherState().encryptInto(EMPTY, new Uint8Array(16), 0),
    NoiseError,
  );
});

Deno.test("noise: a keyless cipher state passes data through", () => {
  const cs = new CipherState();
  assert.equal(cs.hasKey(), false);
  assert.deepEqual(cs.encryptWithAd(utf8("ad"), utf8("plain")), utf8("plain"));
  assert.deepEqual(cs.decryptWithAd(utf8("ad"), utf8("plain")), utf8("plain"));
});

Deno.test("noise: rekey keeps both sides in step", () => {
  const { a, b } = complete();
  a.send.rekey();
  b.receive.rekey();
  const sealed = a.send.encryptWithAd(EMPTY, utf8("after rekey"));
  assert.deepEqual(b.receive.decryptWithAd(EMPTY, sealed), utf8("after rekey"));
  const stale = new CipherState(new Uint8Array(32));
  stale.rekey();
  assert.throws(
    () =>
      stale.decryptWithAd(
        EMPTY,
        new CipherState(new Uint8Array(32)).encryptWithAd(EMPTY, utf8("x")),
      ),
    NoiseError,
  );
});

Deno.test("noise: HKDF equals RFC 5869 HKDF-SHA256 (salt = ck, empty info, 64 bytes)", () => {
  for (let i = 0; i < 20; i++) {
    const ck = crypto.getRandomValues(new Uint8Array(32));
    const ikm = crypto.getRandomValues(new Uint8Array(i === 0 ? 0 : 32));
    const [k1, k2] = hkdf(ck, ikm);
    const reference = new Uint8Array(
      hkdfSync("sha256", ikm, ck, new Uint8Array(0), 64),
    );
    assert.equal(toHex(k1) + toHex(k2), toHex(reference));
  }
});

Deno.test("noise: symmetric state starts from the padded protocol name", () => {
  const ss = new SymmetricState();
  assert.equal(toHex(ss.handshakeHash), toHex(utf8(PROTOCOL_NAME)));
  const long = new SymmetricState(
    "Noise_XXpsk3_25519_ChaChaPoly_BLAKE2s_extra",
  );
  assert.equal(long.handshakeHash.length, 32);
});

Deno.test("noise: 10,000 random and mutated handshake messages only ever raise WireError", () => {
  const keys = fixedKeys();
  const reference = pair(keys);
  const m1 = reference.initiator.writeMessage();
  reference.responder.readMessage(m1);
  const m2 = reference.responder.writeMessage(utf8("responder payload"));
  reference.initiator.readMessage(m2);
  const m3 = reference.initiator.writeMessage(utf8("initiator payload"));

  const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
  const int = (n: number) => Math.floor(Math.random() * n);
  const mutate = (message: Uint8Array): Uint8Array => {
    switch (int(4)) {
      case 0: { // flip 1-4 random bits
        let out = message;
        for (let k = 0, n = 1 + int(4); k < n; k++) {
          out = flip(out, int(out.length), 1 << int(8));
        }
        // flipping one bit twice restores it: make sure something changed
        return toHex(out) === toHex(message) ? flip(out, 0) : out;
      }
      case 1: // truncate
        return message.subarray(0, int(message.length));
      case 2: // extend with junk
        return new Uint8Array([...message, ...random(1 + int(32))]);
      default: // pure junk of a plausible size
        return random(int(message.length * 2 + 1));
    }
  };

  const CASES = 10_000;
  let rejected = 0;
  for (let i = 0; i < CASES; i++) {
    const stage = i % 3;
    const { initiator, responder } = pair(keys);
    try {
      if (stage === 0) {
        // Message 1 is unauthenticated; a junk e must fail by message 2 at the latest.
        initiator.writeMessage();
        responder.readMessage(mutate(m1));
        initiator.readMessage(responder.writeMessage());
      } else if (stage === 1) {
        initiator.writeMessage();
        initiator.readMessage(mutate(m2));
      } else {
        responder.readMessage(m1);
        responder.writeMessage(utf8("responder payload"));
        responder.readMessage(mutate(m3));
      }
      assert.fail(`stage ${stage}: a mutated message was accepted`);
    } catch (error) {
      if (!(error instanceof WireError)) throw error;
      rejected++;
    }
  }
  assert.equal(rejected, CASES);
});

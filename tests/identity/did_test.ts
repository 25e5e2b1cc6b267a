import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { decodeBase58, encodeBase58 } from "../../src/identity/base58.ts";
import { decodeDidKey, DidError, encodeDidKey } from "../../src/identity/did.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import { fromHex } from "../../src/util/bytes.ts";

// The did:key specification's Ed25519 test vectors
// (w3c-ccg/did-method-key, test-vectors/ed25519-x25519.json): seed → key → did.
const VECTORS = [
  {
    seed: "0000000000000000000000000000000000000000000000000000000000000000",
    publicKeyBase58: "4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS",
    did: "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
  },
  {
    seed: "0000000000000000000000000000000000000000000000000000000000000001",
    publicKeyBase58: "6ASf5EcmmEHTgDJ4X4ZT5vT6iHVJBXPg5AN5YoTCpGWt",
    did: "did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG",
  },
  {
    seed: "0000000000000000000000000000000000000000000000000000000000000002",
    publicKeyBase58: "8pM1DN3RiT8vbom5u1sNryaNT1nyL8CTTW3b5PwWXRBH",
    did: "did:key:z6MknGc3ocHs3zdPiJbnaaqDi58NGb4pk1Sp9WxWufuXSdxf",
  },
  {
    seed: "0000000000000000000000000000000000000000000000000000000000000003",
    publicKeyBase58: "HPYVwAQmskwT1qEEeRzhoomyfyupJGASQQtCXSNG8XS2",
    did: "did:key:z6MkvqoYXQfDDJRv8L4wKzxYeuKyVZBfi9Qo6Ro8MiLH3kDQ",
  },
  {
    seed: "0000000000000000000000000000000000000000000000000000000000000004",
    publicKeyBase58: "J3qYF7YJMKCqQke47UQwiHizgFUXapHxRxKmxbkar89x",
    did: "did:key:z6MkwW6aqMnjgrhJXFUko3NnZPGzVpkNzhYK7yEhnsibmLwL",
  },
];

Deno.test("did:key matches the specification's Ed25519 vectors", () => {
  for (const v of VECTORS) {
    const keyPair = KeyPair.fromSeed(fromHex(v.seed));
    assertEquals(encodeBase58(keyPair.publicKey), v.publicKeyBase58);
    assertEquals(encodeDidKey(keyPair.publicKey), v.did);
    assertEquals(decodeDidKey(v.did), keyPair.publicKey);
    assertEquals(NodeId.fromDid(v.did).did, v.did);
  }
});

Deno.test("base58 round-trips, including leading zeros", () => {
  for (
    const bytes of [
      new Uint8Array(0),
      Uint8Array.of(0),
      Uint8Array.of(0, 0, 1),
      crypto.getRandomValues(new Uint8Array(40)),
    ]
  ) {
    assertEquals(decodeBase58(encodeBase58(bytes)), bytes);
  }
  assertThrows(() => decodeBase58("0OIl"), RangeError);
});

Deno.test("decodeDidKey rejects bad input with DidError", () => {
  const good = VECTORS[0].did;
  const bad = [
    "",
    "did:web:example.com",
    "did:key:",
    "did:key:z",
    "did:key:" + good.slice(8).replace("z", "f"), // wrong multibase
    good.slice(0, -1), // truncated
    good + "1", // too long key
    "did:key:z0OIl",
    "did:key:z" + encodeBase58(Uint8Array.of(0xe7, 0x01, ...new Uint8Array(33))), // secp256k1 codec
    "did:key:z" + "2".repeat(200),
  ];
  for (const input of bad) {
    assertThrows(() => decodeDidKey(input), DidError, undefined, `accepted ${input}`);
  }
  assertThrows(() => decodeDidKey(42 as unknown as string), DidError);
  assertThrows(() => encodeDidKey(new Uint8Array(31)), DidError);
});

Deno.test("NodeId text forms, equality and ordering", () => {
  const a = new NodeId(new Uint8Array(32).fill(1)); // not a small-order point, unlike all zeros
  const b = new NodeId(Uint8Array.from({ length: 32 }, () => 2));
  assert(a.compare(b) < 0);
  assert(b.compare(a) > 0);
  assert(a.equals(new NodeId(new Uint8Array(32).fill(1))));
  assertEquals(a.short.length, 8);
  assertEquals(JSON.stringify({ id: a }), JSON.stringify({ id: a.did }));
  assertThrows(() => new NodeId(new Uint8Array(31)), DidError);
});

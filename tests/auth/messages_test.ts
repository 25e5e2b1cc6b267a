/**
 * The `/macula/auth/1` bodies (`src/auth/messages.ts`): round trips, every
 * bad shape refused with a `WireError`, and 10,000 mutations of each valid
 * body decoding or failing with a `WireError`, never anything else.
 */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { fuzzDecoder } from "../helpers/mutate.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import {
  AUTH_PROTOCOL,
  decodeAuthRequest,
  decodeProofsReply,
  decodeRevocationsReply,
  encodeAuthRequest,
  encodeProofsReply,
  encodeRevocationsReply,
  MAX_CHAIN_LINKS,
  MAX_CHAINS,
  MAX_REVOCATIONS_PER_REPLY,
  MAX_TOKEN_BYTES,
} from "../../src/auth/messages.ts";
import { encodeCbor } from "../../src/wire/cbor.ts";
import { WireError } from "../../src/wire/errors.ts";

const subject = new NodeId(KeyPair.generate().publicKey);
const token = (n: number, size = 120) => Uint8Array.from({ length: size }, (_, i) => (i * 7 + n) & 0xff);

Deno.test("auth messages: requests round-trip", () => {
  assertEquals(AUTH_PROTOCOL, "/macula/auth/1");
  assertEquals(decodeAuthRequest(encodeCbor(encodeAuthRequest({ t: "proofs" }))), { t: "proofs" });
  const of = decodeAuthRequest(encodeCbor(encodeAuthRequest({ t: "proofs", subject })));
  assert(of.t === "proofs" && of.subject?.equals(subject));
  assertEquals(decodeAuthRequest(encodeCbor(encodeAuthRequest({ t: "revocations", offset: 0 }))), {
    t: "revocations",
    offset: 0,
  });
  assertEquals(decodeAuthRequest(encodeCbor(encodeAuthRequest({ t: "revocations", offset: 300 }))), {
    t: "revocations",
    offset: 300,
  });
});

Deno.test("auth messages: replies round-trip", () => {
  const chains = [[token(1), token(2)], [token(3)]];
  assertEquals(decodeProofsReply(encodeCbor(encodeProofsReply({ chains }))).chains, chains);
  assertEquals(decodeProofsReply(encodeCbor(encodeProofsReply({ chains: [] }))).chains, []);
  const revocations = [token(4), token(5)];
  assertEquals(decodeRevocationsReply(encodeCbor(encodeRevocationsReply({ revocations }))), { revocations });
  assertEquals(decodeRevocationsReply(encodeCbor(encodeRevocationsReply({ revocations, next: 256 }))), {
    revocations,
    next: 256,
  });
});

Deno.test("auth messages: bad requests are WireErrors naming the field", () => {
  const bad: Array<[string, unknown, string]> = [
    ["not a map", [1, 2], "expected map"],
    ["no type", {}, "t"],
    ["unknown type", { t: "chains" }, "t"],
    ["subject of the wrong length", { t: "proofs", s: new Uint8Array(31) }, "s"],
    ["subject a small-order key", { t: "proofs", s: new Uint8Array(32) }, "s"],
    ["subject as text", { t: "proofs", s: subject.did }, "s"],
    ["offset in a proofs request", { t: "proofs", o: 3 }, "o"],
    ["subject in a revocations request", { t: "revocations", s: subject.bytes }, "s"],
    ["negative offset", { t: "revocations", o: -1 }, "o"],
    ["fractional offset", { t: "revocations", o: 1.5 }, "o"],
  ];
  for (const [what, body, field] of bad) {
    const error = assertThrows(() => decodeAuthRequest(encodeCbor(body)), WireError, undefined, what) as WireError;
    assert(error.message.includes(field), `${what}: ${error.message}`);
    assertEquals(error.code, "E_WIRE_INVALID", what);
  }
  assertThrows(() => decodeAuthRequest(new Uint8Array([0xa1])), WireError);
  assertThrows(() => decodeAuthRequest(new Uint8Array()), WireError);
});

Deno.test("auth messages: bad replies are WireErrors (counts and sizes bounded)", () => {
  const big = new Uint8Array(MAX_TOKEN_BYTES + 1);
  const bad: Array<[string, unknown, (b: Uint8Array) => unknown]> = [
    ["proofs: no chains field", {}, decodeProofsReply],
    ["proofs: chains not an array", { c: token(1) }, decodeProofsReply],
    ["proofs: a chain not an array", { c: [token(1)] }, decodeProofsReply],
    ["proofs: a token as text", { c: [["abc"]] }, decodeProofsReply],
    ["proofs: an empty chain", { c: [[]] }, decodeProofsReply],
    ["proofs: too many chains", { c: Array.from({ length: MAX_CHAINS + 1 }, () => [token(1, 4)]) }, decodeProofsReply],
    [
      "proofs: too long a chain",
      { c: [Array.from({ length: MAX_CHAIN_LINKS + 1 }, () => token(1, 4))] },
      decodeProofsReply,
    ],
    ["proofs: an oversized token", { c: [[big]] }, decodeProofsReply],
    ["revocations: missing list", { n: 2 }, decodeRevocationsReply],
    ["revocations: a token as a number", { r: [5] }, decodeRevocationsReply],
    ["revocations: an oversized token", { r: [big] }, decodeRevocationsReply],
    [
      "revocations: too many",
      { r: Array.from({ length: MAX_REVOCATIONS_PER_REPLY + 1 }, () => token(1, 4)) },
      decodeRevocationsReply,
    ],
    ["revocations: negative next", { r: [], n: -4 }, decodeRevocationsReply],
  ];
  for (const [what, body, decode] of bad) {
    assertThrows(() => decode(encodeCbor(body)), WireError, undefined, what);
  }
});

const VALID: Array<[string, unknown, (b: Uint8Array) => unknown]> = [
  ["proofs request", { t: "proofs" }, decodeAuthRequest],
  ["proofs-of request", { t: "proofs", s: subject.bytes }, decodeAuthRequest],
  ["revocations request", { t: "revocations", o: 1000 }, decodeAuthRequest],
  ["proofs reply", { c: [[token(1, 40), token(2, 40)], [token(3, 40)]] }, decodeProofsReply],
  ["revocations reply", { r: [token(4, 40), token(5, 40)], n: 2 }, decodeRevocationsReply],
];

for (const [name, body, decode] of VALID) {
  Deno.test(`fuzz auth ${name}: 10,000 mutations decode or throw WireError`, () => {
    const rejected = fuzzDecoder(name, encodeCbor(body), decode, WireError);
    assert(rejected > 2000, `${name}: suspiciously few rejections (${rejected})`);
  });
}

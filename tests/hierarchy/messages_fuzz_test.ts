/**
 * The bridges' protocol decoders, as the node runs them, against 10,000
 * mutations each: a request frame as `serveRequests` decodes it and a reply
 * frame as `RequestChannel` does. Each mutated input must decode or throw a
 * `WireError`.
 */
import { assert } from "../helpers/assert.ts";
import { fuzzDecoder } from "../helpers/mutate.ts";
import { HIER_PROTOCOL, validateHierReply, validateHierRequest } from "../../src/hierarchy/messages.ts";
import { decodeEnvelope, decodeRequest, validateReply } from "../../src/node/request-channel.ts";
import { createProviderRecord, encodeProviderRecord } from "../../src/dht/records.ts";
import { createNodeRecord } from "../../src/identity/node-record.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { signerOf } from "../../src/identity/domain-signature.ts";
import { realmKey } from "../../src/dht/keys.ts";
import { encodeCbor } from "../../src/wire/cbor.ts";
import { WireError } from "../../src/wire/errors.ts";
import { assertThrows } from "../helpers/assert.ts";

const kp = KeyPair.generate();
const node = createNodeRecord(kp, { addrs: ["quic://10.0.0.1:9443"], realms: ["default", "default@eu/be"] });
const rec = encodeProviderRecord(
  createProviderRecord(signerOf(kp), node, "default@eu/be", realmKey("default@eu/be", "rpc", "x"), 60_000),
);
const request = (frame: Uint8Array) => decodeRequest(frame, HIER_PROTOCOL, validateHierRequest);
const reply = (frame: Uint8Array) => {
  const envelope = decodeEnvelope(frame);
  return envelope.e ?? validateReply(envelope.b, HIER_PROTOCOL, validateHierReply);
};

const CASES: Array<[string, unknown, (b: Uint8Array) => unknown]> = [
  ["up", { i: 1, b: { t: "up", kind: "rpc", name: "x", level: 1, scope: 0, rec } }, request],
  ["find", { i: 2, b: { t: "find", kind: "content", name: "mcid", level: 2, scope: 1, limit: 5 } }, request],
  ["held", { i: 3, b: { t: "held", kind: "raw", name: "value/ab/cd", level: 0 } }, request],
  ["reply records", { i: 4, b: { ok: true, level: 1, recs: [rec, rec] } }, reply],
  ["reply error", { i: 5, e: { c: "E_FORBIDDEN", m: "not a bridge" } }, reply],
];

for (const [name, message, decode] of CASES) {
  Deno.test(`fuzz hier ${name}: 10,000 mutations decode or throw WireError`, () => {
    const rejected = fuzzDecoder(name, encodeCbor(message), decode, WireError);
    assert(rejected > 1000, `${name}: suspiciously few rejections (${rejected})`);
  });
}

Deno.test("hier messages: bad fields are refused", () => {
  const bad = [
    { t: "nope", kind: "rpc", name: "x", level: 0 },
    { t: "find", kind: "node", name: "x", level: 0 },
    { t: "find", kind: "rpc", name: "", level: 0 },
    { t: "find", kind: "rpc", name: "x", level: 9 },
    { t: "find", kind: "rpc", name: "x", level: 1, limit: 33 },
  ];
  for (const b of bad) assertThrows(() => request(encodeCbor({ i: 1, b })), WireError);
});

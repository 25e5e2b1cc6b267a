/**
 * Every message decoder against 10,000 mutations of a valid message (plus
 * the valid message itself): each case must decode or throw a `WireError`
 * — never another exception, never a hang.
 */
import { assert } from "../helpers/assert.ts";
import { fuzzDecoder } from "../helpers/mutate.ts";
import { encodeCbor } from "../../src/wire/cbor.ts";
import { WireError } from "../../src/wire/errors.ts";
import { decodeChallenge, decodeProof } from "../../src/transport/quic-auth.ts";
import { decodeEnvelope } from "../../src/node/envelope.ts";
import { decodeIdentityPayload } from "../../src/secure/secure-channel.ts";
import { createNodeRecord, decodeNodeRecord, encodeNodeRecord } from "../../src/identity/node-record.ts";
import { decodeHeader, encodeHeader, Flag, FrameType } from "../../src/transport/mux/frame.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";

const kp = KeyPair.generate();

const DECODERS: Array<[string, Uint8Array, (b: Uint8Array) => unknown]> = [
  ["quic auth challenge", encodeCbor({ v: 1, nonce: new Uint8Array(32).fill(1) }), decodeChallenge],
  ["quic auth proof", encodeCbor({ id: kp.publicKey, sig: new Uint8Array(64).fill(2) }), decodeProof],
  [
    "request envelope",
    encodeCbor({ i: 0, b: { sensor: "t1", value: 23.5, tags: ["x"] }, u: { cap: "x" } }),
    decodeEnvelope,
  ],
  ["error reply envelope", encodeCbor({ i: 0, e: { c: "E_HANDLER", m: "sensor offline" } }), decodeEnvelope],
  ["noise identity payload", encodeCbor({ id: kp.publicKey, sig: new Uint8Array(64).fill(3) }), decodeIdentityPayload],
  [
    "node record",
    encodeNodeRecord(createNodeRecord(kp, { addrs: ["quic://10.0.0.1:9443"], realms: ["default"] })),
    decodeNodeRecord,
  ],
  [
    "mux frame header",
    encodeHeader({ type: FrameType.Data, flags: Flag.SYN, streamId: 3, length: 100 }),
    (b) => decodeHeader(b),
  ],
];

for (const [name, valid, decode] of DECODERS) {
  Deno.test(`fuzz ${name}: 10,000 mutations decode or throw WireError`, () => {
    const rejected = fuzzDecoder(name, valid, decode, WireError);
    assert(rejected > 1000, `${name}: suspiciously few rejections (${rejected})`);
  });
}

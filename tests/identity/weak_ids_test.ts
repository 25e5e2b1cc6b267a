/**
 * A weak Ed25519 key is refused everywhere an id is accepted: as a `did:key`
 * or `NodeId`, and, with the trivial signature that such a key would verify
 * on OpenSSL alone, as the id of a node record, a Noise handshake identity,
 * a QUIC client proof and a DHT value record.
 */
import { assert, assertEquals, assertRejects, assertThrows } from "../helpers/assert.ts";
import { duplexPair } from "../helpers/duplex_pair.ts";
import { decodeDidKey, DidError, encodeDidKey } from "../../src/identity/did.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { NodeId, nodeIdFromWire } from "../../src/identity/node-id.ts";
import { decodeNodeRecord } from "../../src/identity/node-record.ts";
import { decodeValueRecord } from "../../src/dht/records.ts";
import { authenticate } from "../../src/secure/secure-channel/identity-payload.ts";
import { HandshakeError } from "../../src/secure/errors.ts";
import { authenticateClient } from "../../src/transport/quic-auth.ts";
import type { ByteStream } from "../../src/transport/stream.ts";
import { concat } from "../../src/util/bytes.ts";
import { encodeCbor } from "../../src/wire/cbor.ts";
import { WireError } from "../../src/wire/errors.ts";
import { BufferedReader, writeFrame } from "../../src/wire/frame.ts";
import { encodePoint, nonCanonicalEncodings, smallOrderEncodings } from "../crypto/weak_vectors.ts";

const WEAK = [...smallOrderEncodings(), ...nonCanonicalEncodings()];
/** The identity point: with R = identity and S = 0, [S]B = R + [k]A holds for every message. */
const IDENTITY = encodePoint(1n, false);
const TRIVIAL_SIGNATURE = concat(IDENTITY, new Uint8Array(32));

Deno.test("weak keys are not ids: NodeId, did:key and nodeIdFromWire refuse every weak vector", () => {
  for (const v of WEAK) {
    assertThrows(() => new NodeId(v.bytes), DidError, "weak Ed25519 public key", v.why);
    assertThrows(() => decodeDidKey(encodeDidKey(v.bytes)), DidError, "weak Ed25519 public key", v.why);
    const error = assertThrows(() => nodeIdFromWire(v.bytes, "test message"), WireError, "test message", v.why);
    assertEquals((error as WireError).code, "E_WIRE_INVALID");
  }
  const honest = KeyPair.generate().publicKey;
  assert(NodeId.fromDid(encodeDidKey(honest)).equals(nodeIdFromWire(honest, "test message")));
});

Deno.test("a node record with the identity point as id and a trivial signature is a WireError", () => {
  const now = Date.now();
  const record = encodeCbor({
    id: IDENTITY,
    addrs: ["tcp://10.0.0.66:9443"],
    realms: ["default"],
    roles: [],
    seq: now,
    exp: now + 3_600_000,
    sig: TRIVIAL_SIGNATURE,
  });
  assertThrows(() => decodeNodeRecord(record), WireError, "weak Ed25519 public key");
});

Deno.test("a Noise identity payload from the identity point is a HandshakeError", () => {
  const payload = encodeCbor({ id: IDENTITY, sig: TRIVIAL_SIGNATURE });
  assertThrows(() => authenticate(payload, crypto.getRandomValues(new Uint8Array(32))), HandshakeError);
});

Deno.test("a QUIC client proof from the identity point is refused", async () => {
  const [serverEnd, clientEnd] = duplexPair();
  const stream: ByteStream = {
    read: () => serverEnd.read(),
    write: (chunk) => serverEnd.write(chunk),
    closeWrite: () => Promise.resolve(serverEnd.close()),
    reset: () => void serverEnd.close(),
    closed: Promise.resolve(),
  };
  const server = authenticateClient(stream, new NodeId(KeyPair.generate().publicKey));
  const reader = new BufferedReader(clientEnd);
  assert(await reader.readFrame(512, "challenge") !== null, "the server sent its challenge");
  await writeFrame(clientEnd, encodeCbor({ id: IDENTITY, sig: TRIVIAL_SIGNATURE }));
  await assertRejects(() => server, HandshakeError, "bad signature");
  clientEnd.close();
});

Deno.test("a DHT value record published by the identity point is a WireError", () => {
  const record = encodeCbor({
    r: "default",
    p: IDENTITY,
    n: "profile",
    v: new Uint8Array([1]),
    q: 1,
    x: Date.now() + 60_000,
    s: TRIVIAL_SIGNATURE,
  });
  assertThrows(() => decodeValueRecord(record), WireError, "weak Ed25519 public key");
});

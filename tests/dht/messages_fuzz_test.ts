/**
 * The decoders of request-channel traffic, exactly as the node runs them,
 * against 10,000 mutations each: a request frame as `serveRequests` decodes
 * it (`decodeRequest`: the envelope, then the DHT or RPC body), a reply
 * frame as `RequestChannel` does (`decodeEnvelope`, then `validateReply`),
 * and the signed records a DHT reply carries (`decodeNodeRecord`,
 * `decodeProviderRecord`, `decodeValueRecord`). Each mutated input must
 * decode or throw a `WireError` — nothing else, no hang.
 */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { fuzzDecoder } from "../helpers/mutate.ts";
import {
  DHT_PROTOCOL,
  MAX_REPLY_PEERS,
  MAX_REPLY_PROVIDERS,
  validateDhtReply,
  validateDhtRequest,
} from "../../src/dht/messages.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { createNodeRecord, decodeNodeRecord, encodeNodeRecord } from "../../src/identity/node-record.ts";
import { encodeCbor } from "../../src/wire/cbor.ts";
import { WireError } from "../../src/wire/errors.ts";
import { RPC_PROTOCOL, validateRpcRequest } from "../../src/rpc/rpc.ts";
import { decodeEnvelope, decodeRequest, validateReply } from "../../src/node/request-channel.ts";
import {
  createProviderRecord,
  createValueRecord,
  decodeProviderRecord,
  decodeValueRecord,
  encodeProviderRecord,
  encodeValueRecord,
} from "../../src/dht/records.ts";
import { realmKey } from "../../src/dht/keys.ts";
import { signerOf } from "../../src/identity/domain-signature.ts";

const kp = KeyPair.generate();
const record = createNodeRecord(kp, { addrs: ["quic://10.0.0.1:9443", "tcp://10.0.0.1:9443"], realms: ["default"] });
const key = realmKey("default", "rpc", "math.add");
const provider = encodeProviderRecord(
  createProviderRecord(signerOf(kp), record, "default", key, 60_000, { p: ["a.>"] }),
);
const value = encodeValueRecord(createValueRecord(signerOf(kp), "default", "profile", new Uint8Array(16), 3, 60_000));

/** A DHT request frame, decoded as `serveRequests` decodes it for the DHT. */
const dhtRequest = (frame: Uint8Array) => decodeRequest(frame, DHT_PROTOCOL, validateDhtRequest);
/** An RPC request frame, decoded as `serveRequests` decodes it for RPC. */
const rpcRequest = (frame: Uint8Array) => decodeRequest(frame, RPC_PROTOCOL, validateRpcRequest);
/** A DHT reply frame, decoded as `RequestChannel` decodes it (the envelope, then the body). */
const dhtReply = (frame: Uint8Array) => {
  const envelope = decodeEnvelope(frame);
  return envelope.e ?? validateReply(envelope.b, DHT_PROTOCOL, validateDhtReply);
};
/** Decoders that take the value itself, not an envelope. */
const BARE = new Set<unknown>([decodeNodeRecord, decodeProviderRecord, decodeValueRecord]);

const CASES: Array<[string, unknown, (b: Uint8Array) => unknown]> = [
  ["dht request find_node", { i: 1, b: { t: "find_node", realm: "default", key } }, dhtRequest],
  ["dht request add_provider", { i: 2, b: { t: "add_provider", realm: "default", key, rec: provider } }, dhtRequest],
  ["dht request put_value", { i: 3, b: { t: "put_value", realm: "io.example.app", rec: value } }, dhtRequest],
  ["dht request ping", { i: 4, b: { t: "ping", realm: "default" } }, dhtRequest],
  ["dht request get_value", { i: 1_000_000, b: { t: "get_value", realm: "default", key } }, dhtRequest],
  ["dht reply peers", { i: 5, b: { ok: true, peers: [encodeNodeRecord(record), encodeNodeRecord(record)] } }, dhtReply],
  ["dht reply providers+value", { i: 6, b: { providers: [provider], value, peers: [] } }, dhtReply],
  ["dht reply error", { i: 7, e: { c: "E_HANDLER", m: "sensor offline" } }, dhtReply],
  ["rpc request", { i: 8, b: { r: "default", p: "math.add", a: { a: 2, b: [3, 4.5, "x", null, true] } } }, rpcRequest],
  [
    "rpc request with auth",
    { i: 9, b: { r: "default", p: "math.add", a: [1] }, u: { ucan: new Uint8Array(40) } },
    rpcRequest,
  ],
  ["node record", encodeNodeRecord(record), decodeNodeRecord],
  ["provider record", provider, decodeProviderRecord],
  ["value record", value, decodeValueRecord],
];

for (const [name, message, decode] of CASES) {
  Deno.test(`fuzz ${name}: 10,000 mutations decode or throw WireError`, () => {
    const valid = BARE.has(decode) ? message as Uint8Array : encodeCbor(message);
    const rejected = fuzzDecoder(name, valid, decode, WireError);
    assert(rejected > 2000, `${name}: suspiciously few rejections (${rejected})`);
  });
}

const decodeDhtRequest = (body: unknown) => dhtRequest(encodeCbor({ i: 1, b: body })).request;
const decodeDhtReply = (body: unknown) => validateReply(body, DHT_PROTOCOL, validateDhtReply);

Deno.test("dht request validator: accepted and rejected shapes", () => {
  for (const t of ["ping", "find_node", "get_providers", "add_provider", "get_value", "put_value"]) {
    assertEquals(decodeDhtRequest({ t, realm: "r" }).t, t);
  }
  const bad: unknown[] = [
    { t: "store", realm: "r" },
    { t: "ping" },
    { t: "ping", realm: "" },
    { t: "ping", realm: "r".repeat(65) },
    { t: "find_node", realm: "r", key: new Uint8Array(31) },
    { t: "find_node", realm: "r", key: "k" },
    { t: "put_value", realm: "r", rec: new Uint8Array(16 * 1024 + 1) },
    [],
    "ping",
  ];
  for (const b of bad) assertThrows(() => decodeDhtRequest(b), WireError, undefined, JSON.stringify(b));
  // null optional fields count as absent.
  assertEquals(decodeDhtRequest({ t: "ping", realm: "r", key: null }), { t: "ping", realm: "r" });
});

Deno.test("dht reply validator: bounds on peers, providers and value", () => {
  const peer = encodeNodeRecord(record);
  assertEquals(decodeDhtReply({ peers: Array(MAX_REPLY_PEERS).fill(peer) }).peers?.length, 20);
  assertThrows(() => decodeDhtReply({ peers: Array(MAX_REPLY_PEERS + 1).fill(peer) }), WireError);
  assertEquals(
    decodeDhtReply({ providers: Array(MAX_REPLY_PROVIDERS).fill(provider) }).providers?.length,
    64,
  );
  assertThrows(
    () => decodeDhtReply({ providers: Array(MAX_REPLY_PROVIDERS + 1).fill(provider) }),
    WireError,
  );
  assertThrows(() => decodeDhtReply({ value: new Uint8Array(16 * 1024 + 1) }), WireError);
  assertThrows(() => decodeDhtReply({ peers: ["not bytes"] }), WireError, "peers[0]");
  assertThrows(() => decodeDhtReply({ ok: "yes" }), WireError, "ok");
  assertEquals(decodeDhtReply({}), {});
});

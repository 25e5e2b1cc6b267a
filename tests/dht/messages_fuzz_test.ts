/**
 * Decoders of request-channel traffic against 10,000 mutations each: DHT
 * requests and replies (`src/dht/messages.ts`), the RPC request body
 * (`src/rpc/rpc.ts`) and the request envelope (`src/node/envelope.ts`) — the
 * exported decoders themselves. Each mutated input must decode or throw a
 * `WireError` — nothing else, no hang.
 */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { fuzzDecoder } from "../helpers/mutate.ts";
import { MAX_REPLY_PEERS, MAX_REPLY_PROVIDERS, validateDhtReply, validateDhtRequest } from "../../src/dht/messages.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { createNodeRecord, encodeNodeRecord } from "../../src/identity/node-record.ts";
import { encodeCbor } from "../../src/wire/cbor.ts";
import { WireError } from "../../src/wire/errors.ts";
import { messageDecoder } from "../../src/wire/schema.ts";
import { validateRpcRequest } from "../../src/rpc/rpc.ts";
import { decodeEnvelope } from "../../src/node/envelope.ts";
import {
  createProviderRecord,
  createValueRecord,
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

const decodeDhtRequest = messageDecoder("dht request", validateDhtRequest);
const decodeDhtReply = messageDecoder("dht reply", validateDhtReply);
const decodeRpcRequest = messageDecoder("rpc request", validateRpcRequest);
/** An envelope carrying a DHT request, validated all the way down as `serveRequests` does. */
const decodeDhtEnvelope = (bytes: Uint8Array) => {
  const env = decodeEnvelope(bytes);
  try {
    return validateDhtRequest(env.b, "b");
  } catch (error) {
    throw new WireError("E_WIRE_INVALID", "dht request", (error as Error).message);
  }
};

const CASES: Array<[string, unknown, (b: Uint8Array) => unknown]> = [
  ["dht request find_node", { t: "find_node", realm: "default", key }, decodeDhtRequest],
  ["dht request add_provider", { t: "add_provider", realm: "default", key, rec: provider }, decodeDhtRequest],
  ["dht request put_value", { t: "put_value", realm: "io.example.app", rec: value }, decodeDhtRequest],
  ["dht request ping", { t: "ping", realm: "default" }, decodeDhtRequest],
  [
    "dht reply peers",
    { ok: true, peers: [encodeNodeRecord(record), encodeNodeRecord(record)] },
    decodeDhtReply,
  ],
  ["dht reply providers+value", { providers: [provider], value, peers: [] }, decodeDhtReply],
  ["rpc request", { r: "default", p: "math.add", a: { a: 2, b: [3, 4.5, "x", null, true] } }, decodeRpcRequest],
  ["envelope request", { i: 42, b: { r: "default", p: "math.add", a: [1, 2] } }, decodeEnvelope],
  ["envelope request with auth", { i: 9, b: [1], u: { ucan: new Uint8Array(40) } }, decodeEnvelope],
  ["envelope error reply", { i: 7, e: { c: "E_HANDLER", m: "sensor offline" } }, decodeEnvelope],
  ["envelope with dht request", { i: 1_000_000, b: { t: "get_value", realm: "default", key } }, decodeDhtEnvelope],
];

for (const [name, message, decode] of CASES) {
  Deno.test(`fuzz ${name}: 10,000 mutations decode or throw WireError`, () => {
    const rejected = fuzzDecoder(name, encodeCbor(message), decode, WireError);
    assert(rejected > 2000, `${name}: suspiciously few rejections (${rejected})`);
  });
}

Deno.test("dht request validator: accepted and rejected shapes", () => {
  for (const t of ["ping", "find_node", "get_providers", "add_provider", "get_value", "put_value"]) {
    assertEquals(decodeDhtRequest(encodeCbor({ t, realm: "r" })).t, t);
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
  for (const b of bad) assertThrows(() => decodeDhtRequest(encodeCbor(b)), WireError, undefined, JSON.stringify(b));
  // null optional fields count as absent.
  assertEquals(decodeDhtRequest(encodeCbor({ t: "ping", realm: "r", key: null })), { t: "ping", realm: "r" });
});

Deno.test("dht reply validator: bounds on peers, providers and value", () => {
  const peer = encodeNodeRecord(record);
  assertEquals(decodeDhtReply(encodeCbor({ peers: Array(MAX_REPLY_PEERS).fill(peer) })).peers?.length, 20);
  assertThrows(() => decodeDhtReply(encodeCbor({ peers: Array(MAX_REPLY_PEERS + 1).fill(peer) })), WireError);
  assertEquals(
    decodeDhtReply(encodeCbor({ providers: Array(MAX_REPLY_PROVIDERS).fill(provider) })).providers?.length,
    64,
  );
  assertThrows(
    () => decodeDhtReply(encodeCbor({ providers: Array(MAX_REPLY_PROVIDERS + 1).fill(provider) })),
    WireError,
  );
  assertThrows(() => decodeDhtReply(encodeCbor({ value: new Uint8Array(16 * 1024 + 1) })), WireError);
  assertThrows(() => decodeDhtReply(encodeCbor({ peers: ["not bytes"] })), WireError, "peers[0]");
  assertThrows(() => decodeDhtReply(encodeCbor({ ok: "yes" })), WireError, "ok");
  assertEquals(decodeDhtReply(encodeCbor({})), {});
});

/**
 * Signed DHT records: provider and value records round-trip, every forgery
 * is a `WireError`, size limits hold on create and on decode, and the
 * decoders survive 10,000 mutations each.
 */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { mutate } from "../helpers/mutate.ts";
import { realmKey } from "../../src/dht/keys.ts";
import {
  createProviderRecord,
  createValueRecord,
  decodeProviderRecord,
  decodeValueRecord,
  encodeProviderRecord,
  encodeValueRecord,
  MAX_PROVIDER_DATA,
  MAX_VALUE,
  valueKey,
  valueMatchesKey,
} from "../../src/dht/records.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import { createNodeRecord, encodeNodeRecord } from "../../src/identity/node-record.ts";
import { decodeCbor, encodeCbor } from "../../src/wire/cbor.ts";
import { WireError } from "../../src/wire/errors.ts";
import { signerOf } from "../../src/identity/domain-signature.ts";

const kp = KeyPair.generate();
const nodeRecord = createNodeRecord(kp, { addrs: ["quic://10.0.0.1:9443"], realms: ["default"], seq: 5 });
const other = KeyPair.generate();
const otherRecord = createNodeRecord(other, { addrs: ["quic://10.0.0.2:9443"], realms: ["default"], seq: 5 });
const KEY = realmKey("default", "rpc", "math.add");

/** Decode a record's wire form to a plain map, change it, and encode it again. */
function tamper(wire: Uint8Array, change: (m: Record<string, unknown>) => void): Uint8Array {
  const m = decodeCbor(wire, "test") as Record<string, unknown>;
  change(m);
  return encodeCbor(m);
}

function flipped(bytes: Uint8Array, at = 0): Uint8Array {
  const out = Uint8Array.from(bytes);
  out[at] ^= 1;
  return out;
}

Deno.test("provider record round-trips, with and without data", () => {
  const data = { p: ["sensors.>", "alerts.*"], n: 3, nested: { b: new Uint8Array([1, 2, 3]) } };
  const before = Date.now();
  const rec = createProviderRecord(signerOf(kp), nodeRecord, "default", KEY, 60_000, data);
  assert(rec.expires >= before + 60_000 && rec.expires <= Date.now() + 60_000);
  const decoded = decodeProviderRecord(encodeProviderRecord(rec));
  assertEquals(decoded.key, KEY);
  assertEquals(decoded.realm, "default");
  assert(decoded.provider.id.equals(nodeRecord.id));
  assertEquals(decoded.provider.addrs, nodeRecord.addrs);
  assertEquals(decoded.provider.seq, 5);
  assertEquals(decoded.data, data);
  assertEquals(decoded.expires, rec.expires);
  assertEquals(decoded.sig, rec.sig);

  const bare = createProviderRecord(signerOf(kp), nodeRecord, "default", KEY, 1000);
  const bareDecoded = decodeProviderRecord(encodeProviderRecord(bare));
  assertEquals(bareDecoded.data, undefined);
  assertEquals(bareDecoded.expires, bare.expires);

  // Data of many CBOR kinds survives the round trip and verifies.
  for (
    const d of [0, 1.5, -7, "text", true, false, [1, [2, [3]]], new Uint8Array(100).fill(9), { a: { b: { c: 1 } } }]
  ) {
    const r = createProviderRecord(signerOf(kp), nodeRecord, "default", KEY, 1000, d);
    assertEquals(decodeProviderRecord(encodeProviderRecord(r)).data, d);
  }
});

Deno.test("provider record with data null decodes (null is a valid CBOR value)", () => {
  // `createProviderRecord` signs encodeCbor(null) for data = null, but the
  // decoder's optional() turns a null field into undefined and verifies
  // against "no data": the honest record would not verify.
  const rec = createProviderRecord(signerOf(kp), nodeRecord, "default", KEY, 1000, null);
  const decoded = decodeProviderRecord(encodeProviderRecord(rec));
  assert(decoded.data === null || decoded.data === undefined);
});

Deno.test("forged provider records are WireErrors", () => {
  const rec = createProviderRecord(signerOf(kp), nodeRecord, "default", KEY, 60_000, { p: ["a.b"] });
  const wire = encodeProviderRecord(rec);
  decodeProviderRecord(wire); // the original is fine
  const forgeries: Array<[string, Uint8Array]> = [
    ["key", tamper(wire, (m) => m.k = flipped(m.k as Uint8Array))],
    ["key of another name", tamper(wire, (m) => m.k = realmKey("default", "rpc", "math.sub"))],
    ["realm", tamper(wire, (m) => m.r = "other")],
    ["data", tamper(wire, (m) => m.d = { p: ["evil.>"] })],
    ["data removed", tamper(wire, (m) => delete m.d)],
    ["expiry", tamper(wire, (m) => m.x = (m.x as number) + 1)],
    ["expiry far future", tamper(wire, (m) => m.x = (m.x as number) + 365 * 86_400_000)],
    ["signature bit", tamper(wire, (m) => m.s = flipped(m.s as Uint8Array, 10))],
    ["zero signature", tamper(wire, (m) => m.s = new Uint8Array(64))],
    ["node record of another node", tamper(wire, (m) => m.n = encodeNodeRecord(otherRecord))],
    ["node record tampered", tamper(wire, (m) => m.n = flipped(m.n as Uint8Array, (m.n as Uint8Array).length - 3))],
  ];
  // Wrong signer: the other key signs a record naming our node.
  const wrongSigner = createProviderRecord(signerOf(other), nodeRecord, "default", KEY, 60_000);
  forgeries.push(["wrong signer", encodeProviderRecord(wrongSigner)]);
  // Right signer, but the node record is swapped for the signer's... and the signature for ours.
  forgeries.push(["swapped node record", encodeProviderRecord({ ...rec, provider: otherRecord })]);
  for (const [what, bytes] of forgeries) {
    assertThrows(() => decodeProviderRecord(bytes), WireError, undefined, what);
  }
});

Deno.test("a provider record may carry a newer node record of the same node (it is signed separately)", () => {
  const rec = createProviderRecord(signerOf(kp), nodeRecord, "default", KEY, 60_000);
  const newer = createNodeRecord(kp, { addrs: ["quic://10.9.9.9:9443"], realms: ["default"], seq: 6 });
  const decoded = decodeProviderRecord(encodeProviderRecord({ ...rec, provider: newer }));
  assertEquals(decoded.provider.seq, 6);
  assertEquals(decoded.provider.addrs, ["quic://10.9.9.9:9443"]);
});

Deno.test("provider data over 1 KiB is refused on create and on decode", () => {
  // Largest accepted: encoded data of exactly 1024 bytes (byte string header 3 + 1021).
  const fits = new Uint8Array(MAX_PROVIDER_DATA - 3);
  assertEquals(encodeCbor(fits).length, MAX_PROVIDER_DATA);
  const ok = createProviderRecord(signerOf(kp), nodeRecord, "default", KEY, 1000, fits);
  assertEquals((decodeProviderRecord(encodeProviderRecord(ok)).data as Uint8Array).length, fits.length);

  const big = new Uint8Array(MAX_PROVIDER_DATA - 2);
  assertEquals(encodeCbor(big).length, MAX_PROVIDER_DATA + 1);
  assertThrows(() => createProviderRecord(signerOf(kp), nodeRecord, "default", KEY, 1000, big), RangeError);
  assertThrows(
    () => createProviderRecord(signerOf(kp), nodeRecord, "default", KEY, 1000, { s: "x".repeat(2000) }),
    RangeError,
  );
  // On decode, oversized data is refused before any signature work.
  const oversized = tamper(encodeProviderRecord(ok), (m) => m.d = big);
  const error = assertThrows(() => decodeProviderRecord(oversized), WireError) as WireError;
  assertEquals(error.code, "E_WIRE_OVERSIZED");
  assertEquals(error.messageType, "provider record");
});

Deno.test("provider record shape errors are WireErrors", () => {
  const wire = encodeProviderRecord(createProviderRecord(signerOf(kp), nodeRecord, "default", KEY, 1000));
  const cases: Array<[string, Uint8Array]> = [
    ["not a map", encodeCbor([1, 2, 3])],
    ["empty map", encodeCbor({})],
    ["short key", tamper(wire, (m) => m.k = new Uint8Array(31))],
    ["empty realm", tamper(wire, (m) => m.r = "")],
    ["long realm", tamper(wire, (m) => m.r = "r".repeat(65))],
    ["node record not bytes", tamper(wire, (m) => m.n = "record")],
    ["node record garbage", tamper(wire, (m) => m.n = new Uint8Array([1, 2, 3]))],
    ["negative expiry", tamper(wire, (m) => m.x = -1)],
    ["float expiry", tamper(wire, (m) => m.x = 1.5)],
    ["short signature", tamper(wire, (m) => m.s = new Uint8Array(63))],
    ["trailing bytes", Uint8Array.from([...wire, 0])],
    ["empty", new Uint8Array(0)],
  ];
  for (const [what, bytes] of cases) assertThrows(() => decodeProviderRecord(bytes), WireError, undefined, what);
});

Deno.test("value record round-trips; key, limits and forgeries", () => {
  const value = new TextEncoder().encode("hello world");
  const rec = createValueRecord(signerOf(kp), "default", "profile", value, 7, 60_000);
  assert(rec.publisher.equals(new NodeId(kp.publicKey)));
  const decoded = decodeValueRecord(encodeValueRecord(rec));
  assertEquals(decoded.realm, "default");
  assert(decoded.publisher.equals(rec.publisher));
  assertEquals(decoded.name, "profile");
  assertEquals(decoded.value, value);
  assertEquals(decoded.seq, 7);
  assertEquals(decoded.expires, rec.expires);

  const wire = encodeValueRecord(rec);
  const forgeries: Array<[string, Uint8Array]> = [
    ["realm", tamper(wire, (m) => m.r = "other")],
    ["publisher", tamper(wire, (m) => m.p = other.publicKey)],
    ["name", tamper(wire, (m) => m.n = "profile2")],
    ["value", tamper(wire, (m) => m.v = flipped(m.v as Uint8Array))],
    ["seq", tamper(wire, (m) => m.q = 8)],
    ["expiry", tamper(wire, (m) => m.x = (m.x as number) + 1)],
    ["signature", tamper(wire, (m) => m.s = flipped(m.s as Uint8Array, 63))],
    // Signed by another key but claiming our id as publisher.
    [
      "wrong signer",
      tamper(
        encodeValueRecord(createValueRecord(signerOf(other), "default", "profile", value, 7, 60_000)),
        (m) => m.p = kp.publicKey,
      ),
    ],
  ];
  for (const [what, bytes] of forgeries) assertThrows(() => decodeValueRecord(bytes), WireError, "signature", what);
});

Deno.test("value over 4 KiB is refused on create and on decode", () => {
  const max = createValueRecord(signerOf(kp), "default", "big", new Uint8Array(MAX_VALUE), 1, 1000);
  assertEquals(decodeValueRecord(encodeValueRecord(max)).value.length, MAX_VALUE);
  assertThrows(
    () => createValueRecord(signerOf(kp), "default", "big", new Uint8Array(MAX_VALUE + 1), 1, 1000),
    RangeError,
  );
  const over = tamper(encodeValueRecord(max), (m) => m.v = new Uint8Array(MAX_VALUE + 1));
  assertThrows(() => decodeValueRecord(over), WireError, "at most 4096 bytes");
});

Deno.test("value record shape errors are WireErrors", () => {
  const wire = encodeValueRecord(createValueRecord(signerOf(kp), "default", "n", new Uint8Array(1), 1, 1000));
  const cases: Array<[string, Uint8Array]> = [
    ["not a map", encodeCbor("value")],
    ["short publisher", tamper(wire, (m) => m.p = new Uint8Array(31))],
    ["empty name", tamper(wire, (m) => m.n = "")],
    ["long name", tamper(wire, (m) => m.n = "n".repeat(201))],
    ["value as text", tamper(wire, (m) => m.v = "text")],
    ["seq negative", tamper(wire, (m) => m.q = -1)],
    ["seq missing", tamper(wire, (m) => delete m.q)],
    ["expiry as string", tamper(wire, (m) => m.x = "soon")],
    ["truncated", wire.subarray(0, wire.length - 1)],
  ];
  for (const [what, bytes] of cases) assertThrows(() => decodeValueRecord(bytes), WireError, undefined, what);
});

Deno.test("valueKey / valueMatchesKey", () => {
  const rec = createValueRecord(signerOf(kp), "default", "profile", new Uint8Array([1]), 1, 1000);
  const key = valueKey("default", rec.publisher, "profile");
  assertEquals(key.length, 32);
  assert(valueMatchesKey(rec, key));
  assert(valueMatchesKey(decodeValueRecord(encodeValueRecord(rec)), key));
  assertEquals(key, realmKey("default", "value", `${rec.publisher.did}/profile`));
  assert(!valueMatchesKey(rec, valueKey("default", rec.publisher, "profile2")));
  assert(!valueMatchesKey(rec, valueKey("other", rec.publisher, "profile")));
  assert(!valueMatchesKey(rec, valueKey("default", new NodeId(other.publicKey), "profile")));
  assert(!valueMatchesKey(rec, realmKey("default", "rpc", "profile")));
  assert(!valueMatchesKey(rec, new Uint8Array(32)));
});

function fuzz(name: string, valid: Uint8Array, decode: (b: Uint8Array) => unknown): void {
  decode(valid);
  let rejected = 0;
  let accepted = 0;
  for (let i = 0; i < 10_000; i++) {
    try {
      decode(mutate(valid, i));
      accepted++;
    } catch (error) {
      if (!(error instanceof WireError)) {
        throw new Error(
          `case ${i}: ${name} threw ${(error as Error)?.constructor?.name}: ${(error as Error)?.message}`,
        );
      }
      rejected++;
    }
  }
  assertEquals(rejected + accepted, 10_000);
  assert(rejected > 5000, `${name}: suspiciously few rejections (${rejected})`);
}

Deno.test("fuzz decodeProviderRecord: 10,000 mutations decode or throw WireError", () => {
  const rec = createProviderRecord(signerOf(kp), nodeRecord, "default", KEY, 60_000, {
    p: ["sensors.>", "a.*.b"],
    w: 1.25,
  });
  fuzz("provider record", encodeProviderRecord(rec), decodeProviderRecord);
});

Deno.test("fuzz decodeValueRecord: 10,000 mutations decode or throw WireError", () => {
  const rec = createValueRecord(signerOf(kp), "io.example.app", "profile", new Uint8Array(40).fill(7), 12, 60_000);
  fuzz("value record", encodeValueRecord(rec), decodeValueRecord);
});

import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { createNodeRecord, decodeNodeRecord, encodeNodeRecord, isExpired } from "../../src/identity/node-record.ts";
import { encodeCbor } from "../../src/wire/cbor.ts";
import { WireError } from "../../src/wire/errors.ts";
import { mutate } from "../helpers/mutate.ts";

const kp = KeyPair.generate();
const record = createNodeRecord(kp, {
  addrs: ["quic://10.0.0.1:9443", "tcp://10.0.0.1:9443"],
  realms: ["default", "io.example.app"],
  roles: ["relay"],
  seq: 1000,
  ttl: 5000,
});

Deno.test("node record round-trips and verifies", () => {
  const decoded = decodeNodeRecord(encodeNodeRecord(record));
  assert(decoded.id.equals(record.id));
  assertEquals(decoded.addrs, record.addrs);
  assertEquals(decoded.realms, record.realms);
  assertEquals(decoded.roles, record.roles);
  assertEquals(decoded.seq, 1000);
  assertEquals(decoded.expires, 6000);
  assert(isExpired(decoded, 6000));
  assert(!isExpired(decoded, 5999));
});

Deno.test("forged and altered records are rejected", () => {
  const raw = {
    id: record.id.bytes,
    addrs: record.addrs,
    realms: record.realms,
    roles: record.roles,
    seq: record.seq,
    exp: record.expires,
    sig: record.sig,
  };
  const forgeries = [
    { ...raw, addrs: ["quic://6.6.6.6:9443"] },
    { ...raw, seq: raw.seq + 1 },
    { ...raw, exp: raw.exp + 1 },
    { ...raw, realms: ["evil"] },
    { ...raw, id: KeyPair.generate().publicKey },
    { ...raw, sig: new Uint8Array(64) },
  ];
  for (const f of forgeries) assertThrows(() => decodeNodeRecord(encodeCbor(f)), WireError, "signature");
});

Deno.test("bad shapes are typed WireErrors", () => {
  const cases: unknown[] = [
    null,
    42,
    "record",
    [],
    {},
    { id: new Uint8Array(31) },
    { id: record.id.bytes, addrs: "x", realms: [], roles: [], seq: 1, exp: 1, sig: new Uint8Array(64) },
    { id: record.id.bytes, addrs: Array(17).fill("a"), realms: [], roles: [], seq: 1, exp: 1, sig: new Uint8Array(64) },
    { id: record.id.bytes, addrs: ["x".repeat(201)], realms: [], roles: [], seq: 1, exp: 1, sig: new Uint8Array(64) },
    { id: record.id.bytes, addrs: [], realms: [], roles: [], seq: -1, exp: 1, sig: new Uint8Array(64) },
    { id: record.id.bytes, addrs: [], realms: [], roles: [], seq: 1.5, exp: 1, sig: new Uint8Array(64) },
  ];
  for (const c of cases) assertThrows(() => decodeNodeRecord(encodeCbor(c)), WireError);
  assertThrows(() => decodeNodeRecord(new Uint8Array(0)), WireError);
  const bytes = encodeNodeRecord(record);
  assertThrows(() => decodeNodeRecord(bytes.subarray(0, bytes.length - 3)), WireError);
});

Deno.test("10,000 mutated records: each is a valid record or a WireError", () => {
  const bytes = encodeNodeRecord(record);
  let accepted = 0;
  for (let i = 0; i < 10_000; i++) {
    try {
      const r = decodeNodeRecord(mutate(bytes, i));
      assert(r.id.equals(record.id));
      accepted++;
    } catch (error) {
      if (!(error instanceof WireError)) throw error;
    }
  }
  // A signed record survives only mutations that do not change its meaning.
  assert(accepted < 500, `too many mutations accepted: ${accepted}`);
});

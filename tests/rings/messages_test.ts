/**
 * Ring wire forms (`src/rings/messages.ts`): names, presence (signed record,
 * must be the publisher's), HELLO; bad input is a `WireError` (or a
 * `RingError` for names), and 10,000 mutations of each decode or throw
 * `WireError`.
 */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { fuzzDecoder } from "../helpers/mutate.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import { createNodeRecord, encodeNodeRecord } from "../../src/identity/node-record.ts";
import {
  decodeHello,
  decodePresence,
  encodeHello,
  encodePresence,
  ringTopic,
  validateRingName,
} from "../../src/rings/messages.ts";
import { RingError } from "../../src/rings/errors.ts";
import { encodeCbor } from "../../src/wire/cbor.ts";
import { WireError } from "../../src/wire/errors.ts";

const kp = KeyPair.generate();
const id = new NodeId(kp.publicKey);
const record = createNodeRecord(kp, {
  addrs: ["memory://gw1/did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK/circuit/" + id.did],
  realms: ["default"],
  roles: [],
});

Deno.test("ring names and topics", () => {
  assertEquals(validateRingName("design-review"), "design-review");
  assertEquals(validateRingName("team.daily_standup"), "team.daily_standup");
  assertEquals(ringTopic("x"), "_ring.x");
  for (const bad of ["", "a b", "a..b", ".a", "a.", "x".repeat(65), "a.b.c.d.e", "ü", "a/b"]) {
    const e = assertThrows(() => validateRingName(bad), RingError);
    assertEquals((e as RingError).code, "E_RING_NAME");
  }
});

Deno.test("ring presence: round trip, and only the publisher's own record", () => {
  const p = decodePresence(encodePresence({ t: "here", record }), id);
  assertEquals(p.t, "here");
  assert(p.record.id.equals(id));
  const other = new NodeId(KeyPair.generate().publicKey);
  assertThrows(() => decodePresence(encodePresence({ t: "here", record }), other), WireError, "not the publisher");
  const bad: Array<[string, Uint8Array]> = [
    ["not CBOR", new Uint8Array([0xff, 0xff])],
    ["unknown version", encodeCbor({ v: 2, t: "here", rec: encodeNodeRecord(record) })],
    ["unknown type", encodeCbor({ v: 1, t: "hi", rec: encodeNodeRecord(record) })],
    ["record not bytes", encodeCbor({ v: 1, t: "here", rec: "x" })],
    ["record that is no record", encodeCbor({ v: 1, t: "here", rec: new Uint8Array([1, 2, 3]) })],
    ["oversized", new Uint8Array(10_000)],
  ];
  const tampered = encodeNodeRecord(record);
  tampered[tampered.length - 5] ^= 1;
  bad.push(["tampered record", encodeCbor({ v: 1, t: "here", rec: tampered })]);
  for (const [what, bytes] of bad) assertThrows(() => decodePresence(bytes, id), WireError, undefined, what);
});

Deno.test("ring hello: round trip and bad input", () => {
  assertEquals(decodeHello(encodeHello({ ring: "standup", realm: "default" })), { ring: "standup", realm: "default" });
  for (
    const bad of [
      encodeCbor({ ring: "a b", realm: "default" }),
      encodeCbor({ ring: "standup" }),
      encodeCbor({ ring: "", realm: "default" }),
      encodeCbor({ ring: 1, realm: "default" }),
      new Uint8Array([0xa1]),
    ]
  ) assertThrows(() => decodeHello(bad), WireError);
});

Deno.test("fuzz ring presence: 10,000 mutations decode or throw WireError", () => {
  const rejected = fuzzDecoder(
    "presence",
    encodePresence({ t: "here", record }),
    (b) => decodePresence(b, id),
    WireError,
  );
  assert(rejected > 5000, `suspiciously few rejections (${rejected})`);
});

Deno.test("fuzz ring hello: 10,000 mutations decode or throw WireError", () => {
  const rejected = fuzzDecoder("hello", encodeHello({ ring: "standup", realm: "default" }), decodeHello, WireError);
  assert(rejected > 1000, `suspiciously few rejections (${rejected})`);
});

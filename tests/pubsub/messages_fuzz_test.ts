/**
 * Pub/sub frames (`src/pubsub/messages.ts`) against 10,000 mutations each:
 * every mutated frame decodes or throws a `WireError`, never anything else.
 */
import { assert, assertEquals, assertNotEquals, assertThrows } from "../helpers/assert.ts";
import { fuzzDecoder } from "../helpers/mutate.ts";
import { KeyPair, verify } from "../../src/identity/ed25519.ts";
import {
  MAX_FORWARD,
  MAX_PATTERNS,
  messageSignedBytes,
  PUBSUB_PROTOCOL,
  validatePubSubFrame,
} from "../../src/pubsub/messages.ts";
import { encodeCbor } from "../../src/wire/cbor.ts";
import { WireError } from "../../src/wire/errors.ts";
import { messageDecoder } from "../../src/wire/schema.ts";

const decodeFrame = messageDecoder("pubsub frame", validatePubSubFrame);
const kp = KeyPair.generate();
const origin = kp.publicKey;
const payload = { celsius: 21.5, tags: ["kitchen", "floor-1"], raw: new Uint8Array([1, 2, 3]) };
const sig = kp.sign(messageSignedBytes("default", origin, 12345, 7, "sensors.kitchen.temp", payload));

const FRAMES: Array<[string, unknown]> = [
  ["direct message", { t: "msg", r: "default", o: origin, e: 12345, s: 7, tp: "sensors.kitchen.temp", d: payload }],
  [
    "forwarded message",
    {
      t: "msg",
      r: "default",
      o: origin,
      e: 12345,
      s: 7,
      tp: "sensors.kitchen.temp",
      d: payload,
      f: [KeyPair.generate().publicKey, KeyPair.generate().publicKey],
      g: sig,
    },
  ],
  ["subscription announcement", { t: "subs", r: "io.example.app", p: ["sensors.>", "alerts.*.critical", "x"] }],
];

for (const [name, frame] of FRAMES) {
  Deno.test(`fuzz pubsub ${name}: 10,000 mutations decode or throw WireError`, () => {
    const rejected = fuzzDecoder(name, encodeCbor(frame), decodeFrame, WireError);
    assert(rejected > 2000, `${name}: suspiciously few rejections (${rejected})`);
  });
}

Deno.test("pubsub frame validator: accepted and rejected shapes", () => {
  assertEquals(PUBSUB_PROTOCOL, "/macula/pubsub/2");
  const ok = decodeFrame(encodeCbor(FRAMES[1][1]));
  assertEquals(ok.t, "msg");
  assertEquals(ok.tp, "sensors.kitchen.temp");
  assertEquals(ok.d, payload);
  assertEquals(ok.f?.length, 2);
  const base = { t: "msg", r: "default", o: origin, e: 1, s: 1, tp: "a.b", d: null };
  const bad: Array<[string, unknown]> = [
    ["unknown type", { ...base, t: "pub" }],
    ["no realm", { ...base, r: undefined }],
    ["empty realm", { ...base, r: "" }],
    ["long realm", { ...base, r: "r".repeat(65) }],
    ["short origin", { ...base, o: new Uint8Array(31) }],
    ["negative epoch", { ...base, e: -1 }],
    ["fractional seq", { ...base, s: 1.5 }],
    ["empty topic", { ...base, tp: "" }],
    ["long topic", { ...base, tp: "a".repeat(256) }],
    ["short forward id", { ...base, f: [new Uint8Array(31)] }],
    ["too many forwards", { ...base, f: Array(MAX_FORWARD + 1).fill(origin) }],
    ["short signature", { ...base, g: new Uint8Array(63) }],
    ["patterns not strings", { t: "subs", r: "default", p: [1] }],
    ["empty pattern", { t: "subs", r: "default", p: [""] }],
    ["too many patterns", { t: "subs", r: "default", p: Array(MAX_PATTERNS + 1).fill("a") }],
    ["array frame", ["msg"]],
  ];
  for (const [what, frame] of bad) assertThrows(() => decodeFrame(encodeCbor(frame)), WireError, undefined, what);
  assertEquals(decodeFrame(encodeCbor({ ...base, f: Array(MAX_FORWARD).fill(origin) })).f?.length, MAX_FORWARD);
  assertEquals(decodeFrame(encodeCbor({ t: "subs", r: "d", p: Array(MAX_PATTERNS).fill("a") })).p?.length, 256);
});

Deno.test("messageSignedBytes binds every field; undefined payload signs as null", () => {
  const bytes = messageSignedBytes("default", origin, 12345, 7, "sensors.kitchen.temp", payload);
  assert(verify(origin, bytes, sig));
  const variants = [
    messageSignedBytes("other", origin, 12345, 7, "sensors.kitchen.temp", payload),
    messageSignedBytes("default", KeyPair.generate().publicKey, 12345, 7, "sensors.kitchen.temp", payload),
    messageSignedBytes("default", origin, 12346, 7, "sensors.kitchen.temp", payload),
    messageSignedBytes("default", origin, 12345, 8, "sensors.kitchen.temp", payload),
    messageSignedBytes("default", origin, 12345, 7, "sensors.kitchen.temp2", payload),
    messageSignedBytes("default", origin, 12345, 7, "sensors.kitchen.temp", { ...payload, celsius: 22 }),
  ];
  for (const v of variants) {
    assertNotEquals(v, bytes);
    assert(!verify(origin, v, sig));
  }
  assertEquals(messageSignedBytes("r", origin, 1, 1, "t", undefined), messageSignedBytes("r", origin, 1, 1, "t", null));
});

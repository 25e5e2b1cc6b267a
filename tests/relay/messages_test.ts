/**
 * The relay wire messages: round trips, bad input refused with a
 * `WireError`, and 10,000 mutations of each message decoded or refused with
 * a `WireError` only.
 */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { fuzzDecoder } from "../helpers/mutate.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import {
  decodeHopRequest,
  decodeRelayAnswer,
  decodeStopRequest,
  encodeHopRequest,
  encodeRelayAnswer,
  encodeStopRequest,
} from "../../src/relay/messages.ts";
import { encodeCbor } from "../../src/wire/cbor.ts";
import { WireError } from "../../src/wire/errors.ts";

const a = new NodeId(KeyPair.generate().publicKey);
const b = new NodeId(KeyPair.generate().publicKey);

Deno.test("relay messages: hop requests round-trip", () => {
  assertEquals(decodeHopRequest(encodeHopRequest({ t: "reserve" })), { t: "reserve" });
  const c = decodeHopRequest(encodeHopRequest({ t: "connect", target: a }));
  assert(c.t === "connect" && c.target.equals(a) && !("via" in c) && !("from" in c));
  const v = decodeHopRequest(encodeHopRequest({ t: "connect", target: a, via: b }));
  assert(v.t === "connect" && "via" in v && v.via!.equals(b));
  const f = decodeHopRequest(encodeHopRequest({ t: "connect", target: a, from: b, hops: 1 }));
  assert(f.t === "connect" && "from" in f && f.from.equals(b) && f.hops === 1);
});

Deno.test("relay messages: answers and stop requests round-trip", () => {
  assertEquals(decodeRelayAnswer(encodeRelayAnswer({ ok: true })), { ok: true });
  assertEquals(
    decodeRelayAnswer(encodeRelayAnswer({ ok: true, ttl: 900_000, limits: { circuits: 16, rate: 1 << 20 } })),
    { ok: true, ttl: 900_000, limits: { circuits: 16, rate: 1 << 20 } },
  );
  assertEquals(decodeRelayAnswer(encodeRelayAnswer({ ok: false, reason: "hop-limit" })), {
    ok: false,
    reason: "hop-limit",
  });
  assert(decodeStopRequest(encodeStopRequest({ from: a })).from.equals(a));
});

Deno.test("relay messages: bad input is a WireError", () => {
  const bad: Array<[string, unknown, (b: Uint8Array) => unknown]> = [
    ["reserve with a target", { t: "reserve", target: a.bytes }, decodeHopRequest],
    ["connect without a target", { t: "connect" }, decodeHopRequest],
    ["unknown type", { t: "teleport", target: a.bytes }, decodeHopRequest],
    ["short target", { t: "connect", target: a.bytes.subarray(0, 31) }, decodeHopRequest],
    ["weak target key", { t: "connect", target: new Uint8Array(32) }, decodeHopRequest],
    ["from without hops", { t: "connect", target: a.bytes, from: b.bytes }, decodeHopRequest],
    ["hops without from", { t: "connect", target: a.bytes, hops: 1 }, decodeHopRequest],
    ["forwarded with via", { t: "connect", target: a.bytes, from: b.bytes, hops: 1, via: b.bytes }, decodeHopRequest],
    ["hops out of range", { t: "connect", target: a.bytes, from: b.bytes, hops: 1000 }, decodeHopRequest],
    ["not a map", [1, 2, 3], decodeHopRequest],
    ["refusal without reason", { ok: false }, decodeRelayAnswer],
    ["acceptance with reason", { ok: true, reason: "x" }, decodeRelayAnswer],
    ["reason with spaces", { ok: false, reason: "no way" }, decodeRelayAnswer],
    ["reason too long", { ok: false, reason: "a".repeat(65) }, decodeRelayAnswer],
    ["ok not a bool", { ok: 1 }, decodeRelayAnswer],
    ["negative ttl", { ok: true, ttl: -1 }, decodeRelayAnswer],
    ["stop without from", {}, decodeStopRequest],
    ["stop with text from", { from: a.did }, decodeStopRequest],
  ];
  for (const [name, value, decode] of bad) assertThrows(() => decode(encodeCbor(value)), WireError, undefined, name);
  for (const decode of [decodeHopRequest, decodeRelayAnswer, decodeStopRequest]) {
    assertThrows(() => decode(new Uint8Array(0)), WireError);
    assertThrows(() => decode(Uint8Array.of(0xff, 0x00)), WireError);
  }
});

Deno.test("relay messages: 10,000 mutations of each decode or throw WireError", () => {
  const cases: Array<[string, Uint8Array, (b: Uint8Array) => unknown]> = [
    ["reserve", encodeHopRequest({ t: "reserve" }), decodeHopRequest],
    ["connect", encodeHopRequest({ t: "connect", target: a, via: b }), decodeHopRequest],
    ["forwarded connect", encodeHopRequest({ t: "connect", target: a, from: b, hops: 1 }), decodeHopRequest],
    [
      "answer ok",
      encodeRelayAnswer({ ok: true, ttl: 900_000, limits: { circuits: 16, rate: 1 << 20 } }),
      decodeRelayAnswer,
    ],
    ["answer refused", encodeRelayAnswer({ ok: false, reason: "circuit-limit" }), decodeRelayAnswer],
    ["stop", encodeStopRequest({ from: a }), decodeStopRequest],
  ];
  for (const [name, valid, decode] of cases) {
    const rejected = fuzzDecoder(name, valid, decode, WireError, 10_000);
    assert(rejected > 1000, `${name}: only ${rejected} mutations rejected`);
  }
});

/**
 * `/macula/punch/1` messages: round trips, bad input (truncated, oversized,
 * wrong types, missing fields, non-IP hosts, port 0, too many candidates,
 * random bytes) and a 10,000-case mutation loop per message type, in which
 * every input must decode or throw `WireError`.
 */
import { assertEquals, assertThrows } from "../helpers/assert.ts";
import { fuzzDecoder } from "../helpers/mutate.ts";
import {
  decodePunch,
  encodePunch,
  MAX_CANDIDATES,
  MAX_PUNCH_FRAME,
  type PunchMessage,
} from "../../src/nat/punch-messages.ts";
import { encodeCbor } from "../../src/wire/cbor.ts";
import { WireError } from "../../src/wire/errors.ts";

const connect: PunchMessage = {
  t: "connect",
  addrs: [
    { hostname: "203.0.113.7", port: 40123 },
    { hostname: "10.1.0.2", port: 40123 },
    { hostname: "2001:db8::1", port: 9443 },
  ],
  nat: "endpoint-independent",
  n: 2,
};
const skip: PunchMessage = { t: "skip", reason: "both-endpoint-dependent" };
const sync: PunchMessage = { t: "sync", n: 3 };

Deno.test("punch messages round-trip", () => {
  for (const m of [connect, skip, sync]) assertEquals(decodePunch(encodePunch(m)), m);
  assertEquals(
    decodePunch(encodePunch({ t: "connect", addrs: [], nat: "unknown", n: 1 })),
    { t: "connect", addrs: [], nat: "unknown", n: 1 },
  );
});

Deno.test("encodePunch keeps at most MAX_CANDIDATES addresses", () => {
  const many = Array.from({ length: 20 }, (_, i) => ({ hostname: `10.0.0.${i + 1}`, port: 1000 + i }));
  const out = decodePunch(encodePunch({ t: "connect", addrs: many, nat: "unknown", n: 1 }));
  assertEquals(out.t === "connect" && out.addrs.length, MAX_CANDIDATES);
});

Deno.test("punch decoder rejects bad input with WireError", () => {
  const bad: Array<[string, unknown]> = [
    ["not a map", [1, 2]],
    ["unknown type", { t: "hello", n: 1 }],
    ["connect without addrs", { t: "connect", nat: "unknown", n: 1 }],
    ["connect without nat", { t: "connect", addrs: [], n: 1 }],
    ["connect without n", { t: "connect", addrs: [], nat: "unknown" }],
    ["attempt 0", { t: "connect", addrs: [], nat: "unknown", n: 0 }],
    ["attempt 4", { t: "sync", n: 4 }],
    ["sync without n", { t: "sync" }],
    ["negative attempt", { t: "sync", n: -1 }],
    ["unknown nat", { t: "connect", addrs: [], nat: "cone", n: 1 }],
    ["host name, not IP", { t: "connect", addrs: [{ h: "example.com", p: 1 }], nat: "unknown", n: 1 }],
    ["host with spaces", { t: "connect", addrs: [{ h: "1.2.3.4 x", p: 1 }], nat: "unknown", n: 1 }],
    ["port 0", { t: "connect", addrs: [{ h: "1.2.3.4", p: 0 }], nat: "unknown", n: 1 }],
    ["port too large", { t: "connect", addrs: [{ h: "1.2.3.4", p: 65536 }], nat: "unknown", n: 1 }],
    ["port as string", { t: "connect", addrs: [{ h: "1.2.3.4", p: "80" }], nat: "unknown", n: 1 }],
    ["addrs not an array", { t: "connect", addrs: { h: "1.2.3.4", p: 1 }, nat: "unknown", n: 1 }],
    [
      "too many candidates",
      { t: "connect", addrs: Array.from({ length: 9 }, () => ({ h: "1.2.3.4", p: 1 })), nat: "unknown", n: 1 },
    ],
    ["skip without reason", { t: "skip" }],
    ["skip with unknown reason", { t: "skip", reason: "tired" }],
  ];
  for (const [name, value] of bad) {
    assertThrows(() => decodePunch(encodeCbor(value)), WireError, undefined, name);
  }
  assertThrows(() => decodePunch(new Uint8Array(0)), WireError);
  assertThrows(() => decodePunch(encodePunch(connect).subarray(0, 10)), WireError);
  assertThrows(() => decodePunch(new Uint8Array(MAX_PUNCH_FRAME + 1)), WireError, "over");
  assertThrows(() => decodePunch(Uint8Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff)), WireError);
});

Deno.test("punch decoder survives 10,000 mutations of each message type", () => {
  for (const [name, m] of [["connect", connect], ["skip", skip], ["sync", sync]] as const) {
    const rejected = fuzzDecoder(`punch ${name}`, encodePunch(m), decodePunch, WireError, 10_000);
    if (rejected === 0) throw new Error(`no mutation of ${name} was rejected: the fuzz loop tests nothing`);
  }
});

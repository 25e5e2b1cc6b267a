import { assertEquals, assertThrows } from "../helpers/assert.ts";
import {
  decodeDialbackAnswer,
  decodeDialbackRequest,
  encodeDialbackAnswer,
  encodeDialbackRequest,
} from "../../src/nat/dial-back-messages.ts";
import { encodeCbor } from "../../src/wire/cbor.ts";
import { WireError } from "../../src/wire/errors.ts";

Deno.test("dialback messages: round trips", () => {
  const addrs = ["quic://198.51.100.2:9443", "tcp://198.51.100.2:9443", "quic://[2001:db8::1]:9443"];
  assertEquals(decodeDialbackRequest(encodeDialbackRequest({ addrs })), { addrs });
  const results = [{ addr: addrs[0], ok: true }, { addr: addrs[1], ok: false, error: "E_TIMEOUT" }];
  assertEquals(decodeDialbackAnswer(encodeDialbackAnswer({ results })), { results });
  assertEquals(decodeDialbackAnswer(encodeDialbackAnswer({ refused: "rate", message: "slow down" })), {
    refused: "rate",
    message: "slow down",
  });
});

Deno.test("dialback messages: bad input is a WireError", () => {
  const badRequests: unknown[] = [
    {},
    { addrs: [] },
    { addrs: "quic://1.2.3.4:5" },
    { addrs: ["quic://1.2.3.4:5", "quic://1.2.3.4:6", "quic://1.2.3.4:7", "quic://1.2.3.4:8", "quic://1.2.3.4:9"] },
    { addrs: ["http://1.2.3.4:5"] },
    { addrs: ["quic://example.com:5"] },
    { addrs: ["quic://1.2.3.4:5/did:key:z6Mk"] },
    { addrs: ["quic://1.2.3.4"] },
    { addrs: [7] },
    [["quic://1.2.3.4:5"]],
    "addrs",
  ];
  for (const bad of badRequests) assertThrows(() => decodeDialbackRequest(encodeCbor(bad)), WireError);
  const badAnswers: unknown[] = [
    {},
    { results: [], refused: "rate" },
    { refused: "bored" },
    { results: [{ addr: "quic://1.2.3.4:5" }] },
    { results: [{ addr: "quic://1.2.3.4:5", ok: "yes" }] },
    { results: [{ addr: "quic://1.2.3.4:5", ok: false, error: "lower case" }] },
    { results: [{ addr: "nope", ok: true }] },
    { refused: "rate", message: "x".repeat(201) },
  ];
  for (const bad of badAnswers) assertThrows(() => decodeDialbackAnswer(encodeCbor(bad)), WireError);
  assertThrows(() => decodeDialbackRequest(new Uint8Array([0xff, 0x00])), WireError);
  assertThrows(() => decodeDialbackAnswer(new Uint8Array()), WireError);
});

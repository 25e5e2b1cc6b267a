/**
 * WebRTC signaling messages (`src/transport/webrtc-messages.ts`): round
 * trips, every bad shape a `WireError`, and 10,000 mutations of each
 * message decoding or throwing `WireError`, never anything else.
 */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { fuzzDecoder } from "../helpers/mutate.ts";
import {
  decodeSignal,
  encodeSignal,
  MAX_SIGNAL_FRAME,
  type SignalMessage,
  WEBRTC_PROTOCOL,
} from "../../src/transport/webrtc-messages.ts";
import { encodeCbor } from "../../src/wire/cbor.ts";
import { WireError } from "../../src/wire/errors.ts";

const SDP =
  "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n";
const MESSAGES: SignalMessage[] = [
  { t: "offer", sdp: SDP },
  { t: "answer", sdp: SDP },
  { t: "cand", c: "candidate:1 1 UDP 2122317823 192.0.2.4 50000 typ host", m: "0", i: 0 },
  { t: "cand", c: "" },
  { t: "end" },
  { t: "err", reason: "busy" },
];

Deno.test("webrtc signal: round trips", () => {
  assertEquals(WEBRTC_PROTOCOL, "/macula/webrtc/1");
  for (const m of MESSAGES) assertEquals(decodeSignal(encodeSignal(m)), m);
});

Deno.test("webrtc signal: bad input is a WireError", () => {
  const bad: Array<[string, Uint8Array]> = [
    ["not CBOR", new Uint8Array([0xff])],
    ["empty", new Uint8Array()],
    ["not a map", encodeCbor([1, 2])],
    ["unknown type", encodeCbor({ t: "hello" })],
    ["offer without sdp", encodeCbor({ t: "offer" })],
    ["empty sdp", encodeCbor({ t: "offer", sdp: "" })],
    ["sdp that is no sdp", encodeCbor({ t: "answer", sdp: "hello" })],
    ["sdp of the wrong type", encodeCbor({ t: "answer", sdp: 7 })],
    ["oversized sdp", encodeCbor({ t: "offer", sdp: "v=0" + "x".repeat(13_000) })],
    ["candidate without line", encodeCbor({ t: "cand" })],
    ["candidate of the wrong form", encodeCbor({ t: "cand", c: "rm -rf /" })],
    ["oversized candidate", encodeCbor({ t: "cand", c: "candidate:" + "1".repeat(2000) })],
    ["m-line index out of range", encodeCbor({ t: "cand", c: "candidate:1", i: 256 })],
    ["negative m-line index", encodeCbor({ t: "cand", c: "candidate:1", i: -1 })],
    ["long mid", encodeCbor({ t: "cand", c: "candidate:1", m: "x".repeat(65) })],
    ["err without reason", encodeCbor({ t: "err" })],
    ["err with an unknown reason", encodeCbor({ t: "err", reason: "nope" })],
    ["oversized frame", new Uint8Array(MAX_SIGNAL_FRAME + 1)],
  ];
  for (const [what, bytes] of bad) {
    const e = assertThrows(() => decodeSignal(bytes), WireError, undefined, what);
    assert((e as WireError).code.startsWith("E_WIRE_"), what);
  }
});

for (const m of MESSAGES) {
  Deno.test(`fuzz webrtc signal ${m.t}${m.t === "cand" && m.c === "" ? " (end of generation)" : ""}: 10,000 mutations`, () => {
    const rejected = fuzzDecoder(`signal ${m.t}`, encodeSignal(m), decodeSignal, WireError);
    assert(rejected > 1000, `suspiciously few rejections (${rejected})`);
  });
}

/**
 * The hand-built message frames of `src/pubsub/message-codec.ts` against the
 * generic CBOR encoder: for 12,000 random messages (realms, topics, payloads
 * of every CBOR type and size class, epochs and sequence numbers across the
 * integer size boundaries), the frames it builds and splices are the bytes
 * `encodeCbor` gives for the same map, the signed bytes are those of
 * `messageSignedBytes`, and frames decode to the fields they were built from.
 */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { EncodedMessage, MessageEncoder } from "../../src/pubsub/message-codec.ts";
import { scanMessage } from "../../src/pubsub/message-scan.ts";
import { messageSignedBytes, validatePubSubFrame } from "../../src/pubsub/messages.ts";
import { decodeCbor, encodeCbor } from "../../src/wire/cbor.ts";
import { WireError } from "../../src/wire/errors.ts";
import { messageDecoder } from "../../src/wire/schema.ts";
import { fuzzDecoder } from "../helpers/mutate.ts";

const decodeFrame = messageDecoder("pubsub frame", validatePubSubFrame);
const CASES = 12_000;

let seed = 0x5eed;
function rand(): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x80000000;
}
const int = (n: number) => Math.floor(rand() * n);
const pick = <T>(items: readonly T[]): T => items[int(items.length)];

/** Integers around every CBOR size boundary, and beyond 2^32. */
const BOUNDARIES = [0, 1, 23, 24, 25, 255, 256, 257, 65535, 65536, 65537, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 48];
function uint(): number {
  const r = rand();
  if (r < 0.5) return pick(BOUNDARIES);
  if (r < 0.7) return int(1000);
  return int(2 ** 48);
}

/** A length from every size class of a CBOR head (rarely the large ones). */
function length(): number {
  const r = rand();
  if (r < 0.6) return int(30);
  if (r < 0.85) return pick([23, 24, 255, 256]);
  if (r < 0.97) return int(2000);
  return pick([65535, 65536]);
}

const ALPHABET = "abcXYZ019_-.é€😀 \u0000";
function text(n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += ALPHABET[int(ALPHABET.length)];
  return s;
}

function bytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = int(256);
  return out;
}

/** Any CBOR value cbor-x round-trips as a plain value. */
function value(depth = 0): unknown {
  const kinds = depth > 2 ? 9 : 11;
  switch (int(kinds)) {
    case 0:
      return uint();
    case 1:
      return -uint() - 1;
    case 2:
      return pick([0.5, -1.25, 3.14159, 1e300, -0, Infinity, NaN]);
    case 3:
      return text(length());
    case 4:
      return bytes(length());
    case 5:
      return pick([true, false, null]);
    case 6:
      return undefined;
    case 7:
      return 2n ** 64n + BigInt(int(1000));
    case 8:
      return "";
    case 9:
      return Array.from({ length: pick([0, 1, 3, 23, 24, 30]) }, () => value(depth + 1));
    default: {
      const out: Record<string, unknown> = {};
      for (let i = pick([0, 1, 2, 5, 24]); i > 0; i--) out[text(1 + int(8))] = value(depth + 1);
      return out;
    }
  }
}

const TOPIC_SEGMENT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";
function topic(): string {
  const target = pick([1, 5, 23, 24, 30, 100, 255]);
  let out = "";
  while (out.length < target) {
    const seg = Array.from({ length: 1 + int(12) }, () => TOPIC_SEGMENT[int(TOPIC_SEGMENT.length)]).join("");
    out = out ? `${out}.${seg}` : seg;
  }
  return out.slice(0, target).replace(/\.$/, "x").replace(/\.\./g, ".x");
}

const ORIGINS = Array.from({ length: 4 }, () => bytes(32));
const REALMS = ["default", "a", text(23), text(24), "r".repeat(64), text(10)];

Deno.test("message codec: frames, spliced frames and signed bytes equal the generic encoder's, 12,000 cases", () => {
  const encoder = new MessageEncoder();
  for (let i = 0; i < CASES; i++) {
    const fields = {
      r: rand() < 0.8 ? pick(REALMS) : text(1 + int(20)),
      o: pick(ORIGINS),
      e: uint(),
      s: uint(),
      tp: topic(),
      d: value(),
    };
    const frame = { t: "msg", ...fields };
    const message = encoder.encode(fields);
    const direct = message.frame();
    assertEquals(direct, encodeCbor(frame), `case ${i}: direct frame`);
    assertEquals(message.size, direct.length);
    assertEquals(
      message.signedBytes(),
      messageSignedBytes(fields.r, fields.o, fields.e, fields.s, fields.tp, fields.d),
    );

    if (i % 4 !== 0) continue; // signatures, forward lists and scanning on a quarter of the cases
    const g = bytes(64);
    const f = Array.from({ length: pick([0, 1, 2, 23, 24, 40]) }, () => pick(ORIGINS));
    const signed = message.withSignature(g);
    const forwarded = signed.frame(f);
    assertEquals(forwarded, encodeCbor({ ...frame, g, f }), `case ${i}: frame with a forward list`);
    assertEquals(signed.frame(), encodeCbor({ ...frame, g }));

    const decoded = decodeFrame(forwarded);
    assertEquals(decoded.s, fields.s);
    assertEquals(decoded.e, fields.e);
    assertEquals(decoded.tp, fields.tp);
    assertEquals(decoded.f?.length ?? 0, f.length);

    const scanned = scanMessage(forwarded);
    assert(scanned, `case ${i}: scanned`);
    const next = f.slice(1, 3);
    assertEquals(scanned.frame(next), encodeCbor({ ...frame, g, f: next }), `case ${i}: re-spliced frame`);
    assertEquals(scanned.frame(), signed.frame());
    assertEquals(scanned.signedBytes(), message.signedBytes());
  }
});

Deno.test("message codec: the realm prefix follows a new origin or epoch", () => {
  const encoder = new MessageEncoder();
  const base = { r: "default", o: ORIGINS[0], e: 5, s: 1, tp: "a.b", d: 1 };
  for (const fields of [base, { ...base, o: ORIGINS[1] }, { ...base, e: 70_000 }, { ...base, r: "other" }, base]) {
    assertEquals(encoder.encode(fields).frame(), encodeCbor({ t: "msg", ...fields }));
  }
});

Deno.test("message codec: scanning keeps message pairs in any layout and drops f and unknown keys", () => {
  const o = ORIGINS[0];
  const g = bytes(64);
  const fields = { r: "default", o, e: 9, s: 300, tp: "x.y", d: { deep: [1, "two", bytes(3)] } };
  const expected = new MessageEncoder().encode(fields).withSignature(g);
  // f first, an unknown key in the middle, keys in another order.
  const odd = encodeCbor({ f: [o], tp: "x.y", zz: "junk", t: "msg", g, r: "default", d: fields.d, s: 300, e: 9, o });
  const scanned = scanMessage(odd);
  assert(scanned);
  assertEquals(scanned.signedBytes(), expected.signedBytes());
  const reframed = decodeFrame(scanned.frame([ORIGINS[2]]));
  assertEquals(reframed, { ...fields, t: "msg", g, f: [ORIGINS[2]] });
  assertEquals(Object.keys(decodeCbor(scanned.frame(), "test") as object).includes("zz"), false);
  // A frame received without f is passed on as the very same bytes (not a copy).
  const plain = expected.frame();
  const again = scanMessage(plain)!.frame();
  assertEquals(again, plain);
  assert(again.buffer === plain.buffer, "no copy");
});

Deno.test("message codec: frames it cannot splice are refused, malformed ones are WireErrors", () => {
  const o = ORIGINS[0];
  const ok = { t: "msg", r: "default", o, e: 1, s: 1, tp: "a", d: 0 };
  assert(scanMessage(encodeCbor(ok)) instanceof EncodedMessage);
  // A duplicate key (written by hand: a0|8 pairs, the last one "s" again).
  const dup = encodeCbor({ ...ok, x: 1 });
  dup[0] = 0xa8;
  dup.set([0x61, 0x73], dup.length - 3);
  assertEquals(scanMessage(dup), null);
  // Missing fields, not a map, indefinite map.
  assertEquals(scanMessage(encodeCbor({ t: "msg", r: "default" })), null);
  assertEquals(scanMessage(encodeCbor([1, 2])), null);
  assertEquals(scanMessage(Uint8Array.of(0xbf, 0xff)), null);
  // Truncated, trailing bytes, reserved heads, too deep.
  const frame = encodeCbor(ok);
  assertThrows(() => scanMessage(frame.subarray(0, frame.length - 1)), WireError);
  assertThrows(() => scanMessage(Uint8Array.of(...frame, 0)), WireError, "trailing");
  assertThrows(() => scanMessage(Uint8Array.of(0xa1, 0x61, 0x64, 0x1c)), WireError, "reserved");
  const deep = Uint8Array.of(0xa1, 0x61, 0x64, ...new Array(100).fill(0x81), 0);
  assertThrows(() => scanMessage(deep), WireError, "deep");
});

Deno.test("message codec: 10,000 mutated forwarded frames — scanning throws only WireError", () => {
  const g = bytes(64);
  const fields = { r: "default", o: ORIGINS[0], e: 77, s: 1234, tp: "a.b.c", d: { list: [1, "x", bytes(40)], n: -5 } };
  const valid = new MessageEncoder().encode(fields).withSignature(g).frame([ORIGINS[1], ORIGINS[2]]);
  let spliced = 0;
  const rejected = fuzzDecoder("scanMessage", valid, (input) => {
    const scanned = scanMessage(input);
    if (!scanned) return;
    spliced++;
    // Whatever it accepted splices into a well-formed frame (the values may be anything).
    decodeCbor(scanned.frame([ORIGINS[3]]), "spliced");
  }, WireError);
  assert(rejected > 1000 && spliced > 1000, `${rejected} rejected, ${spliced} spliced`);
});

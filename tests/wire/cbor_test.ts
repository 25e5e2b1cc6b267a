/**
 * Our CBOR codec against known answers: every expected encoding below is
 * what cbor-x 1.6.8 (the codec Macula used before, with its options of
 * then) wrote for the same value, so old and new nodes read and sign the
 * same bytes.
 */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { CborTag, decodeCbor, encodeCbor } from "../../src/wire/cbor.ts";
import { WireError } from "../../src/wire/errors.ts";
import { fromHex, toHex } from "../../src/util/bytes.ts";

const KNOWN: [unknown, string][] = [
  [0, "00"],
  [23, "17"],
  [24, "1818"],
  [255, "18ff"],
  [256, "190100"],
  [65536, "1a00010000"],
  [2 ** 32 - 1, "1affffffff"],
  [2 ** 32, "fb41f0000000000000"],
  [1700000000123, "fb4278bcfe5687b000"],
  [-1, "20"],
  [-25, "3818"],
  [-(2 ** 32), "3affffffff"],
  [-(2 ** 32) - 1, "fbc1f0000000100000"],
  [23.5, "fb4037800000000000"],
  [NaN, "fb7ff8000000000000"],
  [2n ** 64n - 1n, "1bffffffffffffffff"],
  [-5n, "3b0000000000000004"],
  [2n ** 70n, "c249400000000000000000"],
  [true, "f5"],
  [null, "f6"],
  [undefined, "f7"],
  ["", "60"],
  ["é€😀", "69c3a9e282acf09f9880"],
  ["x".repeat(24), "7818" + "78".repeat(24)],
  ["€".repeat(30), "785a" + "e282ac".repeat(30)],
  ["a".repeat(300), "79012c" + "61".repeat(300)],
  [Uint8Array.of(1, 2, 3), "43010203"],
  [new Uint8Array(24), "5818" + "00".repeat(24)],
  [[1, [2, 3]], "8201820203"],
  [Array(24).fill(0), "9818" + "00".repeat(24)],
  [{ a: 1, b: [true, null], c: { d: undefined } }, "a3616101616282f5f66163a16164f7"],
  [new Date(1700000000000), "c11a6553f100"],
  [new Date(1700000000123), "c1fb41d954fc4007df3b"],
  [new Set([1, "a"]), "d9010282016161"],
  [new Map<unknown, unknown>([[1, "x"], ["k", 2]]), "d90103a2016178616b02"],
];

Deno.test("cbor: encodings match the known answers byte for byte, and decode back", () => {
  for (const [value, hex] of KNOWN) {
    assertEquals(toHex(encodeCbor(value)), hex, `encoding of ${Deno.inspect(value)}`);
    assertEquals(decodeCbor(fromHex(hex), "test"), value, `decoding of ${hex}`);
  }
  // Values whose decoding differs from the input by design.
  assertEquals(toHex(encodeCbor(-0)), "00");
  assertEquals(toHex(encodeCbor("\ud800")), "63eda080"); // a lone surrogate in a short string, as cbor-x wrote it
  assertEquals(toHex(encodeCbor(new Uint8Array(3).buffer)), "43000000");
  assertEquals(toHex(encodeCbor(new CborTag(42, "x"))), "d82a6178");
});

Deno.test("cbor: big and many values survive the slab (round trip)", () => {
  const big = {
    blob: new Uint8Array(200_000).fill(7),
    list: Array.from({ length: 5000 }, (_, i) => ({ i, s: `n${i}` })),
  };
  for (let round = 0; round < 3; round++) {
    const first = encodeCbor(big);
    const second = encodeCbor({ small: round });
    assertEquals(decodeCbor(first, "test"), big);
    assertEquals(decodeCbor(second, "test"), { small: round });
  }
});

Deno.test("cbor: decodes other well-formed CBOR as cbor-x did", () => {
  assertEquals(decodeCbor(fromHex("f93c00"), "t"), 1); // float16
  assertEquals(decodeCbor(fromHex("fa3fc00000"), "t"), 1.5); // float32
  assertEquals(decodeCbor(fromHex("9f0102ff"), "t"), [1, 2]); // indefinite array
  assertEquals(decodeCbor(fromHex("bf616101ff"), "t"), { a: 1 }); // indefinite map
  assertEquals(decodeCbor(fromHex("a2016161f56162"), "t"), { 1: "a", true: "b" }); // non-string keys
  const polluted = decodeCbor(fromHex("a1695f5f70726f746f5f5f01"), "t") as Record<string, unknown>;
  assertEquals(Object.getPrototypeOf(polluted), Object.prototype);
  assertEquals(polluted["__proto_"], 1);
  const tag = decodeCbor(fromHex("d82a6178"), "t");
  assert(tag instanceof CborTag && tag.tag === 42 && tag.value === "x");
  const bytes = decodeCbor(fromHex("43010203"), "t") as Uint8Array;
  assertEquals(bytes.constructor, Uint8Array);
});

Deno.test("cbor: malformed input is a WireError (E_WIRE_MALFORMED)", () => {
  for (
    const hex of [
      "", // nothing
      "ff", // a lone break
      "0000", // trailing bytes
      "1a0000", // truncated argument
      "43 0102".replace(" ", ""), // truncated byte string
      "5f4101ff", // indefinite byte string
      "7f6161ff", // indefinite text string
      "1c", // reserved additional information
      "9a7fffffff", // array longer than the input
      "bbffffffffffffffff", // 64-bit map length
      "820102ff", // break inside a definite array
      "f8ff", // unknown simple value
      "a1a0a0", // a map as a map key
    ]
  ) {
    const error = assertThrows(() => decodeCbor(fromHex(hex), "probe"), WireError);
    assertEquals((error as WireError).code, "E_WIRE_MALFORMED", hex);
  }
});

Deno.test("cbor: values without a CBOR form are refused", () => {
  assertThrows(() => encodeCbor(() => 1), TypeError);
  assertThrows(() => encodeCbor(Symbol("s")), TypeError);
  assertThrows(() => encodeCbor(new Uint16Array(2)), TypeError);
});

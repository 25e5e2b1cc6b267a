import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import {
  compare,
  concat,
  equals,
  fromBase64,
  fromHex,
  fromUtf8,
  plain,
  toBase32,
  toBase64,
  toHex,
  utf8,
} from "../../src/util/bytes.ts";
import { Buffer } from "node:buffer";

const b = (...xs: number[]) => Uint8Array.from(xs);
const all = Uint8Array.from({ length: 256 }, (_, i) => i);

Deno.test("hex: encodes lowercase, two digits per byte", () => {
  assertEquals(toHex(new Uint8Array(0)), "");
  assertEquals(toHex(b(0, 1, 0x0f, 0x10, 0xab, 0xff)), "00010f10abff");
  assertEquals(toHex(all), Buffer.from(all).toString("hex"));
  // A view with an offset encodes only its own bytes, on both the short and the long path.
  assertEquals(toHex(all.subarray(200, 240)), Buffer.from(all.subarray(200, 240)).toString("hex"));
  assertEquals(toHex(all.subarray(3, 9)), "030405060708");
});

Deno.test("hex: decodes lower and upper case and round-trips every byte", () => {
  assertEquals(fromHex(""), new Uint8Array(0));
  assertEquals(fromHex("00ff10Ab"), b(0, 0xff, 0x10, 0xab));
  assertEquals(fromHex("DEADBEEF"), b(0xde, 0xad, 0xbe, 0xef));
  assertEquals(fromHex(toHex(all)), all);
});

Deno.test("hex: bad input throws RangeError", () => {
  for (const bad of ["0", "abc", "0g", "zz", "0x00", " 00", "00 ", "+1", "-1", "é0"]) {
    assertThrows(() => fromHex(bad), RangeError, "invalid hex", JSON.stringify(bad));
  }
});

Deno.test("base32: RFC 4648 test vectors, lowercase and unpadded", () => {
  const vectors: Array<[string, string]> = [
    ["", ""],
    ["f", "my"],
    ["fo", "mzxq"],
    ["foo", "mzxw6"],
    ["foob", "mzxw6yq"],
    ["fooba", "mzxw6ytb"],
    ["foobar", "mzxw6ytboi"],
  ];
  for (const [input, expected] of vectors) assertEquals(toBase32(utf8(input)), expected, input);
  assertEquals(toBase32(b(0xff, 0xff, 0xff, 0xff, 0xff)), "77777777");
  assertEquals(toBase32(new Uint8Array(5)), "aaaaaaaa");
});

Deno.test("base32: long inputs match a bit-by-bit reference", () => {
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  const reference = (bytes: Uint8Array) => {
    let bits = "";
    for (const x of bytes) bits += x.toString(2).padStart(8, "0");
    while (bits.length % 5) bits += "0";
    let out = "";
    for (let i = 0; i < bits.length; i += 5) out += alphabet[parseInt(bits.slice(i, i + 5), 2)];
    return out;
  };
  for (const len of [1, 2, 3, 4, 5, 6, 31, 32, 33, 1000]) {
    const data = crypto.getRandomValues(new Uint8Array(len));
    assertEquals(toBase32(data), reference(data), `length ${len}`);
  }
  assertEquals(toBase32(all), reference(all));
});

Deno.test("base64: RFC 4648 vectors with padding, and round trips", () => {
  const vectors: Array<[string, string]> = [
    ["", ""],
    ["f", "Zg=="],
    ["fo", "Zm8="],
    ["foo", "Zm9v"],
    ["foob", "Zm9vYg=="],
    ["fooba", "Zm9vYmE="],
    ["foobar", "Zm9vYmFy"],
  ];
  for (const [input, expected] of vectors) {
    assertEquals(toBase64(utf8(input)), expected, input);
    assertEquals(fromBase64(expected), utf8(input), expected);
  }
  assertEquals(toBase64(all), Buffer.from(all).toString("base64"));
  assertEquals(fromBase64(toBase64(all)), all);
});

Deno.test("base64: large inputs (beyond one 32 KiB block) round-trip", () => {
  const big = new Uint8Array(100_003);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
  const text = toBase64(big);
  assertEquals(text, Buffer.from(big).toString("base64"));
  assertEquals(fromBase64(text), big);
});

Deno.test("base64: bad input throws RangeError", () => {
  for (const bad of ["a", "Zg=a", "Z===", "!!!!", "Zm9v*", "é"]) {
    assertThrows(() => fromBase64(bad), RangeError, "invalid base64", JSON.stringify(bad));
  }
});

Deno.test("concat: joins in order into a fresh array", () => {
  assertEquals(concat(), new Uint8Array(0));
  const x = b(1, 2);
  const y = b(3);
  const out = concat(x, new Uint8Array(0), y, b(4, 5));
  assertEquals(out, b(1, 2, 3, 4, 5));
  const single = concat(x);
  assertEquals(single, x);
  single[0] = 99;
  assertEquals(x[0], 1, "concat must copy, not alias");
  // subarray views are copied from their offset
  assertEquals(concat(b(9, 8, 7, 6).subarray(1, 3)), b(8, 7));
});

Deno.test("equals: same length and bytes", () => {
  assert(equals(new Uint8Array(0), new Uint8Array(0)));
  assert(equals(b(1, 2, 3), b(1, 2, 3)));
  assert(!equals(b(1, 2, 3), b(1, 2, 4)));
  assert(!equals(b(1, 2), b(1, 2, 3)));
  assert(!equals(b(1, 2, 3), b(1, 2)));
  assert(equals(Buffer.from([1, 2]), b(1, 2)));
});

Deno.test("compare: lexicographic byte order, shorter prefix first", () => {
  assertEquals(compare(b(1, 2, 3), b(1, 2, 3)), 0);
  assert(compare(b(1, 2, 3), b(1, 2, 4)) < 0);
  assert(compare(b(1, 2, 4), b(1, 2, 3)) > 0);
  assert(compare(b(1, 2), b(1, 2, 0)) < 0);
  assert(compare(b(1, 2, 0), b(1, 2)) > 0);
  assert(compare(b(0x7f), b(0x80)) < 0, "bytes compare unsigned");
  assert(compare(b(0xff), b(0x00, 0xff)) > 0);
  assertEquals(compare(new Uint8Array(0), new Uint8Array(0)), 0);
  const sorted = [b(2), b(1, 5), b(1), b(0xff), b(1, 4)].sort(compare).map(toHex);
  assertEquals(sorted, ["01", "0104", "0105", "02", "ff"]);
});

Deno.test("utf8: encode/decode round trip; invalid sequences throw TypeError", () => {
  const text = "héllo wörld ✓ 𝄞";
  assertEquals(fromUtf8(utf8(text)), text);
  assertEquals(utf8("é"), b(0xc3, 0xa9));
  for (const bad of [b(0xff), b(0xc3), b(0xed, 0xa0, 0x80), b(0xc0, 0x80)]) {
    assertThrows(() => fromUtf8(bad), TypeError, undefined, toHex(bad));
  }
});

Deno.test("plain: returns plain Uint8Arrays, views Buffers without copying", () => {
  const u = b(1, 2, 3);
  assert(plain(u) === u);
  const buf = Buffer.from([4, 5, 6, 7]).subarray(1, 3);
  const p = plain(buf);
  assertEquals(p.constructor, Uint8Array);
  assertEquals(Array.from(p), [5, 6]);
  p[0] = 50;
  assertEquals(buf[0], 50, "plain() is a view over the same memory");
});

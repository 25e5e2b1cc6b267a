/**
 * MCIDs: round trips of both codecs over the edge sizes, strict parsing of
 * the text and binary forms (each rejection a typed `InvalidMcidError`),
 * and fuzz loops over mutated and random strings and byte arrays.
 */
import { base32 } from "npm:multiformats@14.0.5/bases/base32";
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { fuzzDecoder, mutate, rng } from "../helpers/mutate.ts";
import { MAX_MCID_BYTES, Mcid, MCID_VERSION } from "../../src/content/mcid.ts";
import { type Codec, CODEC_CODES, CODECS } from "../../src/content/hash.ts";
import { InvalidMcidError } from "../../src/content/errors.ts";

const SIZES = [0, 1, 127, 128, 16384, 2 ** 32, Number.MAX_SAFE_INTEGER];

function root(seed: number): Uint8Array {
  return Uint8Array.from({ length: 32 }, (_, i) => (i * 31 + seed) & 255);
}

/** Unsigned LEB128, minimal. */
function leb(n: number): number[] {
  const out: number[] = [];
  do {
    const low = n % 128;
    n = Math.floor(n / 128);
    out.push(n > 0 ? low | 0x80 : low);
  } while (n > 0);
  return out;
}

/** Binary MCID from parts, without the constructor's checks. */
function raw(version: number, codec: number, size: number[], hash: Uint8Array): Uint8Array {
  return new Uint8Array([version, codec, ...size, ...hash]);
}

/** Text form of arbitrary bytes (what a malicious peer could send). */
function text(bytes: Uint8Array): string {
  return base32.encode(bytes);
}

Deno.test("mcid: round trips of both codecs over the edge sizes", () => {
  for (const codec of CODECS) {
    for (const size of SIZES) {
      const id = new Mcid(codec, size, root(size % 251));
      const s = id.toString();
      assert(/^b[a-z2-7]+$/.test(s), s);
      const back = Mcid.parse(s);
      assertEquals(back.codec, codec);
      assertEquals(back.size, size);
      assertEquals(back.root, root(size % 251));
      assert(back.equals(id));
      assertEquals(back.toString(), s);
      const fromBytes = Mcid.fromBytes(id.bytes);
      assert(fromBytes.equals(id));
      assertEquals(fromBytes.bytes, id.bytes);
      assertEquals(id.bytes[0], MCID_VERSION);
      assertEquals(id.bytes[1], CODEC_CODES[codec]);
      assertEquals(id.bytes.length, 2 + leb(size).length + 32);
      assert(id.bytes.length <= MAX_MCID_BYTES);
      assertEquals(JSON.stringify({ id }), JSON.stringify({ id: s }));
      assertEquals(id.rootHex, Array.from(root(size % 251), (b) => b.toString(16).padStart(2, "0")).join(""));
    }
  }
});

Deno.test("mcid: codec, size and root each change the id", () => {
  const a = new Mcid("blake3", 100, root(1));
  for (
    const b of [new Mcid("sha256", 100, root(1)), new Mcid("blake3", 101, root(1)), new Mcid("blake3", 100, root(2))]
  ) {
    assert(!a.equals(b));
    assert(a.toString() !== b.toString());
  }
  assert(a.equals(new Mcid("blake3", 100, root(1))));
});

Deno.test("mcid: the constructor rejects sizes and roots that cannot be", () => {
  for (const size of [-1, 1.5, NaN, Infinity, 2 ** 53]) {
    assertThrows(() => new Mcid("blake3", size, root(0)), InvalidMcidError, "size");
  }
  for (const len of [0, 31, 33]) {
    assertThrows(() => new Mcid("blake3", 1, new Uint8Array(len)), InvalidMcidError, "root");
  }
});

Deno.test("mcid: strict text parsing rejects every malformed form with InvalidMcidError", () => {
  const good = new Mcid("blake3", 128, root(3)).toString(); // 36 bytes: 2 unused trailing bits
  const bad: [string, string][] = [
    ["", "empty"],
    ["z" + good.slice(1), "wrong multibase prefix (base58btc)"],
    ["f" + good.slice(1), "wrong multibase prefix (hex)"],
    ["B" + good.slice(1), "upper-case multibase prefix"],
    [good.toUpperCase(), "upper case"],
    ["b" + good.slice(1, 10).toUpperCase() + good.slice(10), "mixed case"],
    [good.slice(0, 20) + "1" + good.slice(21), "bad alphabet (1)"],
    [good.slice(0, 20) + "8" + good.slice(21), "bad alphabet (8)"],
    [good + "=", "padding"],
    [good + "====", "padding"],
    [" " + good, "leading space"],
    [good + "\n", "trailing newline"],
    ["b", "prefix only"],
    [good.slice(0, -1), "truncated by one character"],
    [good.slice(0, -8), "truncated by five bytes"],
    [good.slice(0, 10), "truncated to ten characters"],
    [good + "aa", "one extra byte"],
    [text(new Uint8Array([...Mcid.parse(good).bytes, 0, 0, 0])), "three extra bytes"],
    [text(raw(2, 0x1e, [5], root(0))), "unknown version 2"],
    [text(raw(0, 0x1e, [5], root(0))), "unknown version 0"],
    [text(raw(1, 0x13, [5], root(0))), "unknown codec 0x13"],
    [text(raw(1, 0x00, [5], root(0))), "unknown codec 0x00"],
    [text(raw(1, 0x1e, [0x80, 0x00], root(0))), "non-minimal varint for 0"],
    [text(raw(1, 0x1e, [0x85, 0x80, 0x00], root(0))), "non-minimal varint for 5"],
    [text(raw(1, 0x1e, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], root(0))), "nine-byte varint"],
    [text(raw(1, 0x1e, [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10], root(0))), "size 2^53"],
    [text(raw(1, 0x1e, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], root(0))), "size 2^56 - 1"],
    [text(raw(1, 0x1e, [0x85], root(0))), "varint runs into the hash"],
    [text(raw(1, 0x1e, [5], root(0).subarray(0, 31))), "31-byte hash"],
    ["b" + "a".repeat(200), "far too long"],
  ];
  // Trailing bits: 36 bytes take 58 characters with 2 unused bits; setting one is not canonical.
  const last = "abcdefghijklmnopqrstuvwxyz234567".indexOf(good[good.length - 1]);
  assertEquals(last & 3, 0);
  bad.push([good.slice(0, -1) + "abcdefghijklmnopqrstuvwxyz234567"[last | 1], "non-zero trailing bits"]);
  for (const [s, why] of bad) assertThrows(() => Mcid.parse(s), InvalidMcidError, undefined, why);
  for (const notString of [undefined, null, 5, {}, new Uint8Array(4)]) {
    assertThrows(() => Mcid.parse(notString as unknown as string), InvalidMcidError);
  }
  // The messages say what is wrong.
  assertThrows(() => Mcid.parse(""), InvalidMcidError, "empty");
  assertThrows(() => Mcid.parse("z" + good.slice(1)), InvalidMcidError, "multibase");
  assertThrows(() => Mcid.parse(text(raw(2, 0x1e, [5], root(0)))), InvalidMcidError, "version");
  assertThrows(() => Mcid.parse(text(raw(1, 0x13, [5], root(0)))), InvalidMcidError, "codec");
  assertThrows(() => Mcid.parse(text(raw(1, 0x1e, [0x80, 0x00], root(0)))), InvalidMcidError, "minimal");
  assertThrows(
    () => Mcid.parse(text(raw(1, 0x1e, [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10], root(0)))),
    InvalidMcidError,
    "too large",
  );
  assertThrows(() => Mcid.parse(good + "aa"), InvalidMcidError, "hash must be");
});

Deno.test("mcid: strict binary parsing", () => {
  const good = new Mcid("sha256", 2 ** 32, root(9)).bytes;
  assert(Mcid.fromBytes(good).equals(new Mcid("sha256", 2 ** 32, root(9))));
  const bad: [Uint8Array, string][] = [
    [new Uint8Array(0), "empty"],
    [good.subarray(0, good.length - 1), "truncated"],
    [good.subarray(0, 3), "header only"],
    [new Uint8Array([...good, 0]), "extra byte"],
    [new Uint8Array(MAX_MCID_BYTES + 1).fill(1), "over-long"],
    [raw(1, 0x1e, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], root(0).subarray(0, 31)), "varint > 8"],
    [raw(1, 0x1e, [0x81, 0x00], root(0)), "non-minimal"],
    [raw(1, 0x55, [1], root(0)), "raw codec"],
    [raw(0x81, 0x1e, [1], root(0)), "version 0x81"],
  ];
  for (const [b, why] of bad) assertThrows(() => Mcid.fromBytes(b), InvalidMcidError, undefined, why);
  assertThrows(() => Mcid.fromBytes("bafy" as unknown as Uint8Array), InvalidMcidError, "not bytes");
  // The largest size encodes in 8 varint bytes and parses back exactly.
  const max = raw(1, 0x1e, leb(Number.MAX_SAFE_INTEGER), root(0));
  assertEquals(leb(Number.MAX_SAFE_INTEGER).length, 8);
  assertEquals(Mcid.fromBytes(max).size, Number.MAX_SAFE_INTEGER);
});

Deno.test("mcid: fuzz — 12,000 mutated and random byte arrays: parse or InvalidMcidError, and re-encode", () => {
  const seeds = (["blake3", "sha256"] as Codec[]).flatMap((c) =>
    [0, 200, 2 ** 40].map((size) => new Mcid(c, size, root(size % 7)).bytes)
  );
  let accepted = 0;
  for (const seed of seeds) {
    const rejected = fuzzDecoder(
      "Mcid.fromBytes",
      seed,
      (b) => {
        const id = Mcid.fromBytes(b);
        assertEquals(id.bytes, b);
        assertEquals(Mcid.parse(id.toString()).bytes, b);
        accepted++;
        return id;
      },
      InvalidMcidError,
      2_000,
    );
    assert(rejected > 1_000, `only ${rejected} of 2000 mutations rejected`);
  }
  assert(accepted > 0);
});

Deno.test("mcid: fuzz — 12,000 mutated and random strings: parse or InvalidMcidError, and re-encode to the same text", () => {
  const r = rng(12);
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567ABCZ019=_ -\u00e9";
  const seeds = [new Mcid("blake3", 16384, root(1)), new Mcid("sha256", 1, root(2)), new Mcid("blake3", 0, root(3))]
    .map((id) => id.toString());
  let accepted = 0, rejected = 0;
  const attempt = (s: string) => {
    let id: Mcid;
    try {
      id = Mcid.parse(s);
    } catch (error) {
      if (!(error instanceof InvalidMcidError)) {
        throw new Error(`Mcid.parse(${JSON.stringify(s)}) threw ${(error as Error)?.constructor?.name}`);
      }
      rejected++;
      return;
    }
    assertEquals(id.toString(), s);
    accepted++;
  };
  for (let i = 0; i < 9_000; i++) {
    const seed = seeds[i % seeds.length];
    attempt(String.fromCharCode(...mutate(new TextEncoder().encode(seed), i)));
  }
  for (let i = 0; i < 3_000; i++) {
    const len = Math.floor(r() * 70);
    let s = r() < 0.8 ? "b" : "";
    for (let k = 0; k < len; k++) s += alphabet[Math.floor(r() * (r() < 0.9 ? 32 : alphabet.length))];
    attempt(s);
  }
  assertEquals(accepted + rejected, 12_000);
  assert(rejected > 6_000, `only ${rejected} rejected`);
});

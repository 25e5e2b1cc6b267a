/**
 * The content wire messages: round trips, bad input refused with a
 * `WireError`, and 10,000 mutations of each message decoded or refused with
 * a `WireError` only.
 */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { fuzzDecoder } from "../helpers/mutate.ts";
import {
  type ContentAnswer,
  type ContentRequest,
  decodeAnswer,
  decodeRequest,
  encodeAnswer,
  encodeBlockFrame,
  encodeRequest,
  MAX_RANGES,
  MAX_TREE_PAGE,
} from "../../src/content/messages.ts";
import { Mcid } from "../../src/content/mcid.ts";
import { RangeSet } from "../../src/content/ranges.ts";
import { GROUP_SIZE } from "../../src/content/tree.ts";
import { encodeCbor } from "../../src/wire/cbor.ts";
import { WireError } from "../../src/wire/errors.ts";
import { encodeFrame } from "../../src/wire/frame.ts";

const mcid = new Mcid("blake3", 100 * GROUP_SIZE + 5, new Uint8Array(32).fill(7)); // 101 groups
const GROUPS = 101;
const r = (...flat: number[]) => RangeSet.fromFlat(flat);

function plainRequest(m: ContentRequest): unknown {
  return {
    ...m,
    ...("mcid" in m ? { mcid: m.mcid.toString() } : {}),
    ...("ranges" in m && m.ranges ? { ranges: m.ranges.toFlat() } : {}),
  };
}

function plainAnswer(m: ContentAnswer): unknown {
  return { ...m, ...("ranges" in m && m.ranges ? { ranges: m.ranges.toFlat() } : {}) };
}

const REQUESTS: ContentRequest[] = [
  { t: "want-have", id: 1, mcid },
  { t: "want-have", id: 2, mcid, ranges: r(0, 3, 10, 101) },
  { t: "want-tree", id: 3, mcid, from: 0, count: MAX_TREE_PAGE },
  { t: "want-tree", id: 4, mcid, from: 100, count: 1 },
  { t: "want-block", id: 0xffff_ffff, mcid, ranges: r(5, 6, 8, 40) },
  { t: "cancel", id: 9 },
];

const ANSWERS: ContentAnswer[] = [
  { t: "have", id: 1, ranges: r(0, 101) },
  { t: "have", id: 1, ranges: new RangeSet() },
  { t: "tree", id: 2, from: 64, hashes: new Uint8Array(32 * 37).fill(3) },
  { t: "block", id: 3, index: 100, data: new Uint8Array(5).fill(9) },
  { t: "block", id: 3, index: 0, data: new Uint8Array(16 * GROUP_SIZE) },
  { t: "dont-have", id: 4 },
  { t: "dont-have", id: 5, ranges: r(1, 2), reason: "busy" },
];

Deno.test("content messages: requests and answers round-trip", () => {
  for (const m of REQUESTS) assertEquals(plainRequest(decodeRequest(encodeRequest(m))), plainRequest(m));
  for (const m of ANSWERS) assertEquals(plainAnswer(decodeAnswer(encodeAnswer(m), GROUPS)), plainAnswer(m));
});

Deno.test("content messages: encodeBlockFrame is the framed block answer, byte for byte", () => {
  for (const n of [0, 1, 23, 24, 255, 256, 65535, 65536, 16 * GROUP_SIZE]) {
    const data = new Uint8Array(n).map((_, i) => i * 7);
    const a = encodeBlockFrame(12345, 7, data);
    const b = encodeFrame(encodeAnswer({ t: "block", id: 12345, index: 7, data }));
    assertEquals(a, b, `length ${n}`);
  }
});

Deno.test("content messages: encoders refuse more than MAX_RANGES ranges", () => {
  const many = new RangeSet();
  for (let i = 0; i <= MAX_RANGES; i++) many.add(2 * i);
  assertThrows(() => encodeRequest({ t: "want-block", id: 1, mcid, ranges: many }), RangeError);
  assertThrows(() => encodeAnswer({ t: "have", id: 1, ranges: many }), RangeError);
});

Deno.test("content messages: bad requests are WireErrors", () => {
  const m = mcid.bytes;
  const bad: Array<[string, unknown]> = [
    ["not a map", [1, 2]],
    ["unknown type", { t: "want-everything", id: 1, mcid: m }],
    ["no id", { t: "cancel" }],
    ["negative id", { t: "cancel", id: -1 }],
    ["id too large", { t: "cancel", id: 2 ** 32 }],
    ["cancel with mcid", { t: "cancel", id: 1, mcid: m }],
    ["want-have without mcid", { t: "want-have", id: 1 }],
    ["bad mcid", { t: "want-have", id: 1, mcid: new Uint8Array(34) }],
    ["mcid as text", { t: "want-have", id: 1, mcid: mcid.toString() }],
    ["odd ranges", { t: "want-block", id: 1, mcid: m, ranges: [1, 2, 3] }],
    ["empty ranges", { t: "want-block", id: 1, mcid: m, ranges: [] }],
    ["reversed range", { t: "want-block", id: 1, mcid: m, ranges: [5, 2] }],
    ["empty range", { t: "want-block", id: 1, mcid: m, ranges: [5, 5] }],
    ["unsorted ranges", { t: "want-block", id: 1, mcid: m, ranges: [10, 12, 1, 2] }],
    ["touching ranges", { t: "want-block", id: 1, mcid: m, ranges: [1, 2, 2, 3] }],
    ["overlapping ranges", { t: "want-block", id: 1, mcid: m, ranges: [1, 5, 3, 8] }],
    ["range beyond the content", { t: "want-block", id: 1, mcid: m, ranges: [100, 102] }],
    ["fractional bound", { t: "want-block", id: 1, mcid: m, ranges: [1.5, 3] }],
    ["too many ranges", { t: "want-block", id: 1, mcid: m, ranges: Array.from({ length: 2050 }, (_, i) => i) }],
    ["want-block without ranges", { t: "want-block", id: 1, mcid: m }],
    ["want-block with from", { t: "want-block", id: 1, mcid: m, ranges: [0, 1], from: 0 }],
    ["want-tree without count", { t: "want-tree", id: 1, mcid: m, from: 0 }],
    ["want-tree count 0", { t: "want-tree", id: 1, mcid: m, from: 0, count: 0 }],
    ["want-tree count too big", { t: "want-tree", id: 1, mcid: m, from: 0, count: MAX_TREE_PAGE + 1 }],
    ["want-tree from beyond", { t: "want-tree", id: 1, mcid: m, from: 101, count: 1 }],
    ["want-tree with ranges", { t: "want-tree", id: 1, mcid: m, from: 0, count: 1, ranges: [0, 1] }],
  ];
  for (const [name, value] of bad) assertThrows(() => decodeRequest(encodeCbor(value)), WireError, undefined, name);
  assertThrows(() => decodeRequest(new Uint8Array(0)), WireError);
  assertThrows(() => decodeRequest(Uint8Array.of(0xff, 0x00)), WireError);
});

Deno.test("content messages: bad answers are WireErrors", () => {
  const bad: Array<[string, unknown]> = [
    ["not a map", "have"],
    ["unknown type", { t: "maybe", id: 1 }],
    ["have without ranges", { t: "have", id: 1 }],
    ["have beyond the content", { t: "have", id: 1, ranges: [0, 102] }],
    ["have with data", { t: "have", id: 1, ranges: [0, 1], data: new Uint8Array(1) }],
    ["tree without hashes", { t: "tree", id: 1, from: 0 }],
    ["tree of partial hash", { t: "tree", id: 1, from: 0, hashes: new Uint8Array(33) }],
    ["tree of no hash", { t: "tree", id: 1, from: 0, hashes: new Uint8Array(0) }],
    ["tree past the end", { t: "tree", id: 1, from: 100, hashes: new Uint8Array(64) }],
    ["tree too big", { t: "tree", id: 1, from: 0, hashes: new Uint8Array(32 * (MAX_TREE_PAGE + 1)) }],
    ["block without data", { t: "block", id: 1, index: 0 }],
    ["block beyond the content", { t: "block", id: 1, index: 101, data: new Uint8Array(1) }],
    ["block too big", { t: "block", id: 1, index: 0, data: new Uint8Array(16 * GROUP_SIZE + 1) }],
    ["block with reason", { t: "block", id: 1, index: 0, data: new Uint8Array(1), reason: "x" }],
    ["dont-have with empty ranges", { t: "dont-have", id: 1, ranges: [] }],
    ["dont-have with a bad reason", { t: "dont-have", id: 1, reason: "Not Here" }],
    ["dont-have with a long reason", { t: "dont-have", id: 1, reason: "a".repeat(33) }],
    ["dont-have with hashes", { t: "dont-have", id: 1, hashes: new Uint8Array(32) }],
  ];
  for (const [name, value] of bad) {
    assertThrows(() => decodeAnswer(encodeCbor(value), GROUPS), WireError, undefined, name);
  }
  assertThrows(() => decodeAnswer(new Uint8Array(0), GROUPS), WireError);
});

for (const [i, m] of REQUESTS.entries()) {
  Deno.test(`content messages: 10,000 mutations of request ${i} (${m.t}) decode or throw WireError`, () => {
    const rejected = fuzzDecoder(`content ${m.t}`, encodeRequest(m), decodeRequest, WireError);
    assert(rejected > 1000, `suspiciously few rejections (${rejected})`);
  });
}

// (The 256 KiB block is left out: mutating it 10,000 times takes minutes and tests nothing more.)
for (const [i, m] of ANSWERS.filter((a) => a.t !== "block" || a.data.length < 1024).entries()) {
  Deno.test(`content messages: 10,000 mutations of answer ${i} (${m.t}) decode or throw WireError`, () => {
    const rejected = fuzzDecoder(`content ${m.t}`, encodeAnswer(m), (b) => decodeAnswer(b, GROUPS), WireError);
    assert(rejected > 1000, `suspiciously few rejections (${rejected})`);
  });
}

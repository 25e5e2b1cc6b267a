/** Topics, patterns, matching and directory roots. */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import {
  matches,
  MAX_SEGMENTS,
  MAX_TOPIC_LENGTH,
  rootOf,
  TopicError,
  validatePattern,
  validateTopic,
} from "../../src/pubsub/topic.ts";
import { MaculaError } from "../../src/util/errors.ts";

const GOOD_TOPICS = [
  "a",
  "sensors.kitchen.temperature",
  "A-Z_a-z.0-9",
  "x".repeat(64),
  "-._",
  Array(MAX_SEGMENTS).fill("s").join("."),
  Array(4).fill("y".repeat(63)).join("."), // 255 characters
];

const BAD_TOPICS: Array<[string, string]> = [
  ["", "empty"],
  [".", "empty segments"],
  ["a.", "trailing dot"],
  [".a", "leading dot"],
  ["a..b", "empty middle segment"],
  ["a.*", "wildcard *"],
  ["*", "lone *"],
  ["a.>", "wildcard >"],
  [">", "lone >"],
  ["a b", "space"],
  ["a/b", "slash"],
  ["caf\u00e9", "non-ASCII"],
  ["a\nb", "newline"],
  ["a.b*", "* inside a segment"],
  ["x".repeat(65), "segment over 64"],
  [Array(MAX_SEGMENTS + 1).fill("s").join("."), "17 segments"],
  [Array(4).fill("y".repeat(63)).join(".") + "z", "256 characters"],
];

Deno.test("validateTopic accepts concrete topics", () => {
  for (const t of GOOD_TOPICS) assertEquals(validateTopic(t), t);
  assertEquals(GOOD_TOPICS.at(-1)!.length, MAX_TOPIC_LENGTH);
});

Deno.test("validateTopic rejects wildcards, empty segments, bad characters, too many segments or characters", () => {
  for (const [t, why] of BAD_TOPICS) {
    const error = assertThrows(() => validateTopic(t), TopicError, undefined, why);
    assert(error instanceof MaculaError);
    assertEquals((error as TopicError).code, "E_TOPIC_INVALID");
  }
  assertThrows(() => validateTopic(42 as unknown as string), TopicError);
  assertThrows(() => validateTopic(undefined as unknown as string), TopicError);
});

Deno.test("validatePattern accepts topics, * anywhere and a trailing >", () => {
  const good = [
    ...GOOD_TOPICS,
    "*",
    ">",
    "sensors.*.temp",
    "*.*.*",
    "sensors.>",
    "*.>",
    "a.*.b.>",
    Array(MAX_SEGMENTS - 1).fill("*").join(".") + ".>",
  ];
  for (const p of good) assertEquals(validatePattern(p), p);
});

Deno.test("validatePattern rejects > not last, partial wildcards, empty segments and the topic limits", () => {
  const bad: Array<[string, string]> = [
    [">.a", "> first"],
    ["a.>.b", "> in the middle"],
    [">.>", "two >"],
    ["a.b>", "> inside a segment"],
    ["a.*b", "* inside a segment"],
    ["a.**", "double *"],
    ["a..*", "empty segment"],
    ["", "empty"],
    ["a.", "trailing dot"],
    ["a.#", "MQTT wildcard"],
    ["a.+", "MQTT wildcard"],
    [Array(MAX_SEGMENTS + 1).fill("*").join("."), "17 segments"],
    ["*".repeat(1) + ".x".repeat(128), "over 255 characters"],
  ];
  for (const [p, why] of bad) assertThrows(() => validatePattern(p), TopicError, undefined, why);
});

Deno.test("matches: truth table", () => {
  const table: Array<[string, string, boolean]> = [
    // exact
    ["a.b.c", "a.b.c", true],
    ["a.b.c", "a.b.d", false],
    ["a.b.c", "a.b", false],
    ["a.b", "a.b.c", false],
    ["a", "a", true],
    ["a", "b", false],
    ["A", "a", false], // case-sensitive
    // * is exactly one segment
    ["a.*.c", "a.b.c", true],
    ["a.*.c", "a.x.c", true],
    ["a.*.c", "a.b.d", false],
    ["a.*.c", "a.c", false],
    ["a.*.c", "a.b.b.c", false],
    ["*", "a", true],
    ["*", "a.b", false],
    ["a.*", "a", false],
    ["a.*", "a.b", true],
    ["a.*", "a.b.c", false],
    ["*.*", "a.b", true],
    ["*.b", "a.b", true],
    ["*.b", "a.c", false],
    // > is one or more trailing segments
    ["a.>", "a.b", true],
    ["a.>", "a.b.c.d", true],
    ["a.>", "a", false],
    ["a.>", "b.c", false],
    [">", "a", true],
    [">", "a.b.c", true],
    ["a.b.>", "a.b", false],
    ["a.b.>", "a.b.c", true],
    ["a.b.>", "a.c.d", false],
    ["*.>", "a", false],
    ["*.>", "a.b", true],
    ["a.*.>", "a.b.c", true],
    ["a.*.>", "a.b", false],
  ];
  for (const [pattern, topic, expected] of table) {
    assertEquals(matches(pattern, topic), expected, `${pattern} ~ ${topic}`);
  }
});

Deno.test("matches agrees with a reference matcher on random patterns and topics", () => {
  const segs = ["a", "b", "c"];
  const reference = (p: string[], t: string[]): boolean => {
    if (p.length === 0) return t.length === 0;
    if (p[0] === ">") return t.length >= 1;
    if (t.length === 0) return false;
    return (p[0] === "*" || p[0] === t[0]) && reference(p.slice(1), t.slice(1));
  };
  let seed = 1;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  let positives = 0;
  for (let i = 0; i < 5000; i++) {
    const tl = 1 + rand(4);
    const t = Array.from({ length: tl }, () => segs[rand(3)]);
    const pl = 1 + rand(4);
    const p = Array.from({ length: pl }, (_, j) => {
      const x = rand(5);
      if (x === 4 && j === pl - 1) return ">";
      return x === 3 ? "*" : segs[rand(3)];
    });
    const expected = reference(p, t);
    if (expected) positives++;
    assertEquals(matches(p.join("."), t.join(".")), expected, `${p.join(".")} ~ ${t.join(".")}`);
  }
  assert(positives > 200, `the random table had ${positives} matches`);
});

Deno.test("rootOf: first segment, or * when it is a wildcard", () => {
  assertEquals(rootOf("sensors.kitchen.temp"), "sensors");
  assertEquals(rootOf("sensors.>"), "sensors");
  assertEquals(rootOf("sensors"), "sensors");
  assertEquals(rootOf("*.temp"), "*");
  assertEquals(rootOf("*"), "*");
  assertEquals(rootOf(">"), "*");
  // A topic and every pattern that can match it share a root, or the pattern's root is "*".
  const topic = "sensors.kitchen.temp";
  for (const p of ["sensors.>", "sensors.*.temp", "*.kitchen.temp", ">", "*.>"]) {
    assert(matches(p, topic));
    assert(rootOf(p) === rootOf(topic) || rootOf(p) === "*", p);
  }
});

/**
 * The policy language: every operator, every selector form, wrong types
 * evaluating to false (never throwing), validation errors and bounds, and
 * the namespace policy against prefix confusion.
 */
import { CID } from "npm:multiformats@14.0.5/cid";
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import {
  evaluatePolicy,
  InvalidPolicyError,
  MAX_POLICY_DEPTH,
  MAX_POLICY_STATEMENTS,
  type Policy,
  validatePolicy,
} from "../../src/ucan/mod.ts";
import { NO_VALUE, parseSelector, resolveSegments } from "../../src/ucan/selector.ts";
import { compileGlob, globMatches } from "../../src/ucan/glob.ts";

const holds = (pol: unknown, args: unknown) => evaluatePolicy(validatePolicy(pol), args);
const select = (selector: string, value: unknown) => resolveSegments(parseSelector(selector), value);

const ARGS = {
  from: "alice@example.com",
  to: ["bob@example.com", "carol@not.example.com", "dan@example.com"],
  cc: ["fraud@example.com"],
  title: "Meeting Confirmation",
  "a key": { nested: [10, 20, 30] },
  bytes: Uint8Array.of(0xd6, 0xa9, 0xc1, 0x8c, 0xf8, 0xc4),
  empty: [],
  nothing: null,
};

Deno.test("ucan selector: the spec's examples and every selector form", () => {
  assertEquals(select(".", ARGS), ARGS);
  assertEquals(select(".title", ARGS), "Meeting Confirmation");
  assertEquals(select(".cc", ARGS), ["fraud@example.com"]);
  assertEquals(select(".to[1]", ARGS), "carol@not.example.com");
  assertEquals(select(".to.[1]", ARGS), "carol@not.example.com");
  assertEquals(select(".to[-1]", ARGS), "dan@example.com");
  assertEquals(select(".to[99]?", ARGS), null);
  assertEquals(select(".to[99]", ARGS), NO_VALUE);
  assertEquals(select('.["a key"].nested[0]', ARGS), 10);
  assertEquals(select('.["a key"]["nested"][-1]', ARGS), 30);
  assertEquals(select(".to[1:]", ARGS), ["carol@not.example.com", "dan@example.com"]);
  assertEquals(select(".to[:-2]", ARGS), ["bob@example.com"]);
  assertEquals(select(".to[0:99]", ARGS), ARGS.to);
  assertEquals(select(".to[2:1]", ARGS), []);
  assertEquals(select(".bytes[3]", ARGS), 0x8c, "bytes select as a byte array");
  assertEquals(select(".bytes[1:3]", ARGS), Uint8Array.of(0xa9, 0xc1));
  assertEquals(select(".to[]", ARGS), ARGS.to, "[] on a list is a no-op");
  assertEquals(select('.["a key"][]', ARGS), [[10, 20, 30]], "[] on a map gives its values");
  assertEquals(select(".missing", ARGS), null, "a missing key of a map is null");
  assertEquals(select(".missing.deeper", ARGS), NO_VALUE, "but selecting into that null fails");
  assertEquals(select(".missing.deeper?", ARGS), null);
  assertEquals(select(".missing.deeper???", ARGS), null, "repeated ? is one");
  assertEquals(select(".title.length", ARGS), NO_VALUE, "no field of a string");
  assertEquals(select(".title[0]", ARGS), NO_VALUE, "no index into a string");
  assertEquals(select(".to.x?.y", ARGS), NO_VALUE, "resolution stops at the first failure");
  assertEquals(select(".constructor", ARGS), null, "no prototype properties");
  assertEquals(select(".__proto__", {}), null);
  assertEquals(select(".to[0]", { to: { 0: "x" } }), NO_VALUE, "an index is not a key");
});

Deno.test("ucan selector: invalid selectors are InvalidPolicyError", () => {
  for (
    const bad of ["", "a", "..", ".a.", ".a..b", ".[", ".[x]", ".[1", '.["a"', '.["a]', ".?", ".a b", ".[1.5]", ".-a"]
  ) {
    assertThrows(() => parseSelector(bad), InvalidPolicyError, undefined, bad);
  }
  assertThrows(() => parseSelector("[0]"), InvalidPolicyError, "starts with .");
  assertThrows(() => parseSelector(".a".repeat(600)), InvalidPolicyError, "longer than");
  assertThrows(() => parseSelector(".[99999999999999999999]"), InvalidPolicyError, "out of range");
});

Deno.test("ucan policy: comparisons, numeric agnostic, wrong types false", () => {
  const args = { n: 5, f: 2.5, s: "5", b: true, big: 2n ** 60n, list: [1, 2] };
  assert(holds([["==", ".n", 5]], args));
  assert(holds([["==", ".n", 5.0]], args));
  assert(holds([["!=", ".n", "5"]], args), "5 and '5' differ");
  assert(holds([["<", ".n", 6], ["<=", ".n", 5], [">", ".n", 4], [">=", ".n", 5]], args));
  assert(!holds([["<", ".n", 5]], args));
  assert(holds([[">", ".f", 2], ["<", ".f", 3]], args));
  assert(holds([[">", ".big", 2 ** 59]], args), "bigint compares with numbers");
  assert(holds([["==", ".big", 2n ** 60n]], args));
  for (const op of ["<", "<=", ">", ">="]) {
    for (const field of [".s", ".b", ".list", ".missing", ".nothing?", ".n.x"]) {
      assert(!holds([[op, field, 0]], args), `${op} on ${field} is false`);
    }
  }
  assert(!holds([["==", ".n.x", null]], args), "an unresolvable selector is false");
  assert(!holds([["!=", ".n.x", 1]], args), "even for !=");
  assert(holds([["==", ".missing", null]], args), "a missing key is null");
  assert(holds([["==", ".list", [1, 2.0]]], args), "deep equality");
  assert(!holds([["==", ".list", [1, 2, 3]]], args));
  assert(!holds([["==", ".list", { 0: 1, 1: 2 }]], args), "a list is not a map");
});

Deno.test("ucan policy: equality of bytes, CIDs and maps", () => {
  const cid = CID.parse("bafyreigyftnzjf4rcu7glp5kfop53vqlopc3zcldauoqdxqlz7t4343gr4");
  const args = { b: Uint8Array.of(1, 2), c: cid, m: { x: 1, y: [true, null] } };
  assert(holds([["==", ".b", Uint8Array.of(1, 2)]], args));
  assert(!holds([["==", ".b", Uint8Array.of(1, 3)]], args));
  assert(!holds([["==", ".b", [1, 2]]], args), "bytes are not a list");
  assert(holds([["==", ".c", CID.parse(cid.toString())]], args));
  assert(!holds([["==", ".c", cid.toString()]], args), "a CID is not its text");
  assert(holds([["==", ".m", { y: [true, null], x: 1.0 }]], args));
  assert(!holds([["==", ".m", { x: 1 }]], args));
  assert(!holds([["==", ".m", { x: 1, y: [true, null], z: 0 }]], args));
});

Deno.test("ucan policy: like globs with escapes", () => {
  const g = compileGlob("Alice\\*, Bob*, Carol.");
  assertEquals(g, ["Alice*, Bob", ", Carol."]);
  assert(globMatches(compileGlob("*"), ""));
  assert(globMatches(compileGlob("a*b*c"), "abc"));
  assert(globMatches(compileGlob("a*b*c"), "axxbyyc"));
  assert(!globMatches(compileGlob("a*b*c"), "axxcyyb"));
  assert(!globMatches(compileGlob("ab*ba"), "aba"), "pieces do not overlap");
  assert(globMatches(compileGlob("\\\\*"), "\\anything"), "\\\\ is a literal backslash");
  assert(globMatches(compileGlob("a\\b"), "a\\b"), "a lone backslash is literal");
  assert(globMatches(compileGlob("x\\"), "x\\"), "a trailing backslash is literal");
  assert(holds([["like", ".name", "io.acme.*"]], { name: "io.acme.plant3.temp" }));
  assert(!holds([["like", ".name", "io.acme.*"]], { name: "io.acmex.plant3" }));
  for (const v of [1, null, ["io.acme.x"], { a: 1 }, Uint8Array.of(1)]) {
    assert(!holds([["like", ".name", "*"]], { name: v }), `like on ${typeof v} is false`);
  }
});

Deno.test("ucan policy: connectives and quantifiers", () => {
  const args = { a: [{ b: 1 }, { b: 2 }, { z: [7, 8, 9] }], m: { x: 1, y: 2 }, e: [], s: "str" };
  assert(holds([["and", []]], args));
  assert(holds([["or", []]], args), "an empty or holds (per the spec)");
  assert(holds([["not", ["==", ".a", 1]]], args));
  assert(!holds([["and", [["==", ".s", "str"], ["==", ".s", "x"]]]], args));
  assert(holds([["or", [["==", ".s", "x"], ["==", ".s", "str"]]]], args));
  assert(holds([["any", ".a", ["==", ".b", 2]]], args));
  assert(!holds([["all", ".a", [">", ".b", 0]]], args), "the third item has no b");
  assert(holds([["all", ".m", [">", ".", 0]]], args), "a map quantifies over its values");
  assert(holds([["all", ".e", ["==", ".", 1]]], args), "all over nothing holds");
  assert(!holds([["any", ".e", ["==", ".", 1]]], args), "any over nothing does not");
  for (const q of ["all", "any"]) {
    assert(!holds([[q, ".s", ["==", ".", "s"]]], args), `${q} over a string is false`);
    assert(!holds([[q, ".missing", ["==", ".", 1]]], args), `${q} over null is false`);
    assert(!holds([[q, ".s.x", ["==", ".", 1]]], args), `${q} over nothing is false`);
  }
  assert(holds([["all", ".a", ["any", ".z?", ["==", ".", 7]]]], { a: [{ z: [7] }, { z: [1, 7] }] }), "nested");
  assert(holds([], {}), "the empty policy holds");
  assert(!holds([["==", ".a", 1]], "not a map"));
  assert(!holds([["==", ".a", 1]], undefined));
});

Deno.test("ucan policy: invalid policies are InvalidPolicyError", () => {
  const cases: [unknown, string][] = [
    [{}, "list of statements"],
    [[["=="]], "takes 2 operands"],
    [[["==", ".a"]], "takes 2 operands"],
    [[["==", ".a", 1, 2]], "takes 2 operands"],
    [[["~=", ".a", 1]], "unknown policy operator"],
    [[[1, ".a", 1]], "starting with an operator"],
    [["==", ".a", 1], "starting with an operator"],
    [[["<", ".a", "1"]], "compares with a number"],
    [[["<", ".a", Infinity]], "compares with a number"],
    [[["like", ".a", 1]], "string pattern"],
    [[["and", ["==", ".a", 1]]], "starting with an operator"],
    [[["and", "x"]], "list of statements"],
    [[["not", "x"]], "starting with an operator"],
    [[["all", ".a", "x"]], "starting with an operator"],
    [[["==", "a", 1]], "starts with ."],
    [[["==", ".a", undefined]], "outside the IPLD data model"],
    [[["==", ".a", new Date()]], "outside the IPLD data model"],
  ];
  for (const [pol, why] of cases) {
    const e = assertThrows(() => validatePolicy(pol), InvalidPolicyError, why, JSON.stringify(pol));
    assertEquals((e as InvalidPolicyError).code, "E_UCAN_INVALID_POLICY");
  }
  assertThrows(() => evaluatePolicy([["?", ".a", 1]] as Policy, {}), InvalidPolicyError);
});

Deno.test("ucan policy: depth and size are bounded", () => {
  let deep: unknown = ["==", ".a", 1];
  for (let i = 1; i < MAX_POLICY_DEPTH; i++) deep = ["not", deep];
  validatePolicy([deep]);
  assertThrows(() => validatePolicy([["not", deep]]), InvalidPolicyError, "deeper than");
  const many = Array.from({ length: MAX_POLICY_STATEMENTS }, () => ["==", ".a", 1]);
  validatePolicy(many);
  assertThrows(() => validatePolicy([...many, ["==", ".a", 1]]), InvalidPolicyError, "at most");
});

Deno.test("ucan policy: a validated policy is frozen", () => {
  const pol = validatePolicy([["==", ".a", [1]]]);
  assert(Object.isFrozen(pol) && Object.isFrozen(pol[0]) && Object.isFrozen(pol[0][2]));
});

Deno.test("ucan policy: namespace policy vs prefix confusion (io.acme.user vs io.acme.username)", () => {
  // The shape of namespacePolicy(ns): the name is ns or under it, on whole segments.
  const ns = "io.acme.user";
  const pol = [["or", [["==", ".name", ns], ["like", ".name", `${ns}.*`]]]];
  assert(holds(pol, { realm: "r", name: "io.acme.user" }));
  assert(holds(pol, { realm: "r", name: "io.acme.user.profile" }));
  assert(!holds(pol, { realm: "r", name: "io.acme.username" }));
  assert(!holds(pol, { realm: "r", name: "io.acme.use" }));
  assert(!holds(pol, { realm: "r", name: "io.acme" }));
  assert(!holds(pol, { realm: "r", name: ["io.acme.user"] }), "a list is not a name");
  assert(!holds(pol, { realm: "r" }));
});

/**
 * Fuzz loops: 10,000 cases each of `decodeToken` (random bytes, mutated
 * valid tokens, mutated payloads re-signed so they pass the signature
 * check, truncations), `decodeContainer`/`parseChain`, and of policies and
 * selectors. Every failure must be a `UcanError` of the expected kind,
 * never another exception.
 */
import * as dagCbor from "npm:@ipld/dag-cbor@10.0.2";
import { assert, assertEquals } from "../helpers/assert.ts";
import { mutate, rng } from "../helpers/mutate.ts";
import {
  decodeContainer,
  decodeToken,
  delegate,
  encodeContainer,
  evaluatePolicy,
  InvalidContainerError,
  InvalidPolicyError,
  invoke,
  parseChain,
  revoke,
  UcanError,
  validatePolicy,
} from "../../src/ucan/mod.ts";
import { parseSelector } from "../../src/ucan/selector.ts";
import { namespacePolicy } from "../../src/auth/namespace.ts";
import { envelopeOf, NOW, signers } from "./helpers/tokens.ts";
import { delegationFixture, fromBase64, invocationCases } from "./helpers/fixtures.ts";

const CASES = 10_000;

function seeds() {
  const [a, b, c] = signers(3);
  const d0 = delegate(a, {
    aud: b.did,
    sub: a.did,
    cmd: "/macula",
    pol: [...namespacePolicy("io.acme.plant3"), ["all", ".tags[1:]?", ["!=", ".", null]]],
    exp: NOW + 3600,
    nbf: NOW - 3600,
    meta: { why: "fuzz", n: [1, 2.5, -3], b: Uint8Array.of(1, 2) },
  });
  const d1 = delegate(b, { aud: c.did, sub: null, cmd: "/macula/pubsub/publish", exp: null });
  const inv = invoke(c, {
    sub: a.did,
    cmd: "/macula/pubsub/publish",
    args: { realm: "r", name: "x" },
    prf: [d0.cid, d1.cid],
  });
  const tokens = [
    { signer: a, bytes: d0.bytes },
    { signer: b, bytes: d1.bytes },
    { signer: c, bytes: inv.bytes },
    { signer: a, bytes: revoke(a, d1.cid).bytes },
  ];
  return { tokens, chain: [d0, d1], extra: [fromBase64(delegationFixture("1.0.0").valid[0].token)] };
}

function expectUcan(run: () => unknown, label: string, tally: Map<string, number>): unknown {
  try {
    const out = run();
    tally.set("ok", (tally.get("ok") ?? 0) + 1);
    return out;
  } catch (e) {
    if (!(e instanceof UcanError)) throw new Error(`${label}: not a UcanError: ${e}`, { cause: e });
    assert(e.code.startsWith("E_UCAN_"), e.code);
    tally.set(e.name, (tally.get(e.name) ?? 0) + 1);
    return undefined;
  }
}

Deno.test("ucan fuzz: decodeToken on 10,000 random, mutated, re-signed and truncated inputs throws only UcanErrors", () => {
  const { tokens, extra } = seeds();
  const fixtureTokens = invocationCases("1.0.0").invalid.map((c) => fromBase64(c.invocation["/"].bytes));
  const tally = new Map<string, number>();
  const r = rng(1);
  for (let i = 0; i < CASES; i++) {
    const seed = tokens[i % tokens.length];
    let input: Uint8Array;
    switch (i % 5) {
      case 0:
      case 1:
        input = mutate(i % 10 === 0 ? extra[0] : seed.bytes, i);
        break;
      case 2: {
        // Mutate the signed map and sign it again: this reaches the canonical and payload checks.
        input = envelopeOf(seed.signer, mutate(seed.bytes.subarray(67), i));
        break;
      }
      case 3:
        input = mutate(fixtureTokens[i % fixtureTokens.length], i);
        break;
      default: {
        const length = Math.floor(r() * 200);
        input = Uint8Array.from({ length }, () => Math.floor(r() * 256));
        if (length > 0 && i % 2 === 0) input[0] = 0x82; // a two-element list, to get past the first check
      }
    }
    const token = expectUcan(() => decodeToken(input), `case ${i}`, tally) as { bytes: Uint8Array } | undefined;
    if (token) assertEquals(decodeToken(token.bytes).bytes, token.bytes, "whatever decodes, re-decodes the same");
  }
  for (const seed of tokens) {
    for (let n = 0; n < seed.bytes.length; n++) {
      expectUcan(() => decodeToken(seed.bytes.subarray(0, n)), `truncated to ${n}`, tally);
    }
  }
  console.log("decodeToken outcomes:", Object.fromEntries(tally));
  assert((tally.get("MalformedToken") ?? 0) > 1000 && (tally.get("InvalidSignature") ?? 0) > 100);
});

Deno.test("ucan fuzz: decodeContainer and parseChain on 10,000 mutated and random texts throw only UcanErrors", () => {
  const { chain } = seeds();
  const text = encodeContainer(chain.map((d) => d.bytes));
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const tally = new Map<string, number>();
  const r = rng(2);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/= \n@CBOPM";
  for (let i = 0; i < CASES; i++) {
    let input: string;
    if (i % 4 === 3) {
      const length = Math.floor(r() * 120);
      input = Array.from({ length }, () => alphabet[Math.floor(r() * alphabet.length)]).join("");
    } else if (i % 4 === 2) {
      // Valid base64url around mutated CBOR.
      const cbor = mutate(dagCbor.encode({ "ctn-v1": chain.map((d) => d.bytes) }), i);
      input = "C" + btoa(String.fromCharCode(...cbor)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    } else {
      input = decoder.decode(mutate(encoder.encode(text), i));
    }
    const decoded = expectUcan(() => decodeContainer(input), `container case ${i}`, tally);
    if (decoded) expectUcan(() => parseChain(input), `chain case ${i}`, tally);
    try {
      decodeContainer(input);
    } catch (e) {
      assert(e instanceof InvalidContainerError, `decodeContainer threw ${e}`);
    }
  }
  console.log("container outcomes:", Object.fromEntries(tally));
  assert((tally.get("InvalidContainer") ?? 0) > 1000);
});

Deno.test("ucan fuzz: 10,000 random policies and selectors: InvalidPolicyError or a policy that never throws", () => {
  const r = rng(3);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const ops = ["==", "!=", "<", "<=", ">", ">=", "like", "not", "and", "or", "all", "any", "??"];
  const selectors = [
    ".",
    ".a",
    ".a.b",
    ".[0]",
    ".[-1]",
    ".a[]",
    '.["x y"]',
    ".a?",
    ".[1:]",
    ".a[0]?.b",
    "..",
    "a",
    ".[",
  ];
  const values = [0, 1, -2.5, "a*", "\\*", null, true, [], {}, [1, 2], { a: 1 }, Uint8Array.of(1)];
  const randomValue = (depth: number): unknown => {
    const k = Math.floor(r() * (depth > 3 ? 6 : 9));
    if (k < 6) return pick(values);
    if (k === 6) return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(depth + 1));
    if (k === 7) return { a: randomValue(depth + 1), b: randomValue(depth + 1), x: randomValue(depth + 1) };
    return pick(["io.acme.plant3", "io.acme.plant3.x", "abc", ""]);
  };
  const randomStatement = (depth: number): unknown => {
    const op = pick(ops);
    if (r() < 0.05) return randomValue(depth);
    if (op === "not") return [op, depth > 4 ? ["==", ".", 1] : randomStatement(depth + 1)];
    if (op === "and" || op === "or") {
      return [
        op,
        Array.from({ length: Math.floor(r() * 3) }, () => depth > 4 ? ["==", ".", 1] : randomStatement(depth + 1)),
      ];
    }
    if (op === "all" || op === "any") {
      return [op, pick(selectors), depth > 4 ? ["==", ".", 1] : randomStatement(depth + 1)];
    }
    const s = [op, pick(selectors), randomValue(depth)];
    return r() < 0.05 ? s.slice(0, 2) : s;
  };
  let valid = 0;
  for (let i = 0; i < CASES; i++) {
    const pol = Array.from({ length: 1 + Math.floor(r() * 3) }, () => randomStatement(0));
    let policy;
    try {
      policy = validatePolicy(pol);
    } catch (e) {
      assert(e instanceof InvalidPolicyError, `validatePolicy threw ${e}`);
      continue;
    }
    valid++;
    for (let k = 0; k < 3; k++) {
      const result = evaluatePolicy(policy, randomValue(0));
      assert(typeof result === "boolean");
    }
    // Random selector text.
    const sel = "." + Array.from({ length: Math.floor(r() * 12) }, () => pick([...'ab[]?.:-0123"\\ '])).join("");
    try {
      parseSelector(sel);
    } catch (e) {
      assert(e instanceof InvalidPolicyError, `parseSelector threw ${e}`);
    }
  }
  console.log(`random policies: ${valid} valid of ${CASES}`);
  assert(valid > 1000 && valid < CASES);
});

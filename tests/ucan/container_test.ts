/** Containers: encoding, strict decoding, and chains read root first whatever the stored order. */
import * as dagCbor from "npm:@ipld/dag-cbor@10.0.2";
import { base64pad, base64url } from "npm:multiformats@14.0.5/bases/base64";
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import {
  decodeContainer,
  delegate,
  encodeContainer,
  InvalidContainerError,
  invoke,
  MalformedTokenError,
  MAX_CONTAINER_TOKENS,
  parseChain,
} from "../../src/ucan/mod.ts";
import { signers } from "./helpers/tokens.ts";

function threeLinks() {
  const [a, b, c, d] = signers(4);
  return [
    delegate(a, { aud: b.did, sub: a.did, cmd: "/macula", exp: null }),
    delegate(b, { aud: c.did, sub: a.did, cmd: "/macula/pubsub", exp: null }),
    delegate(c, { aud: d.did, sub: null, cmd: "/macula/pubsub/publish", exp: null }),
  ];
}

Deno.test("ucan container: the spec's shape, header C, tokens sorted bytewise and deduplicated", () => {
  const tokens = [Uint8Array.of(3), Uint8Array.of(1, 2), Uint8Array.of(1), Uint8Array.of(3)];
  const text = encodeContainer(tokens);
  assertEquals(text[0], "C");
  const decoded = dagCbor.decode(base64url.baseDecode(text.slice(1)));
  assertEquals(decoded, { "ctn-v1": [Uint8Array.of(1), Uint8Array.of(1, 2), Uint8Array.of(3)] });
  assertEquals(decodeContainer(text), [Uint8Array.of(1), Uint8Array.of(1, 2), Uint8Array.of(3)]);
  assertEquals(decodeContainer(`\n  ${text}\n`).length, 3, "surrounding whitespace is ignored");
  assertEquals(decodeContainer(encodeContainer([])), []);
  // The padded standard-alphabet form (header B) is read too.
  const b = "B" + base64pad.baseEncode(dagCbor.encode({ "ctn-v1": [Uint8Array.of(9)] }));
  assertEquals(decodeContainer(b), [Uint8Array.of(9)]);
});

Deno.test("ucan container: a chain comes back root first whatever the order it was written in", () => {
  const links = threeLinks();
  for (const order of [[0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1]]) {
    const chain = parseChain(encodeContainer(order.map((i) => links[i].bytes)));
    assertEquals(chain.map((d) => d.id), links.map((d) => d.id));
  }
  // Self-issued links (aud = iss) order too.
  const [a, b] = signers(2);
  const self = delegate(a, { aud: a.did, sub: a.did, cmd: "/", exp: null });
  const next = delegate(a, { aud: b.did, sub: a.did, cmd: "/", exp: null });
  assertEquals(parseChain(encodeContainer([next.bytes, self.bytes])).map((d) => d.id), [self.id, next.id]);
});

Deno.test("ucan container: delegations that are not one chain come back in stored order", () => {
  const [a, b, c] = signers(3);
  const d0 = delegate(a, { aud: b.did, sub: a.did, cmd: "/", exp: null });
  const d1 = delegate(a, { aud: c.did, sub: a.did, cmd: "/", exp: null }); // a fork: two roots
  const text = encodeContainer([d0.bytes, d1.bytes]);
  const stored = decodeContainer(text);
  assertEquals(parseChain(text).map((d) => d.bytes), stored);
});

Deno.test("ucan container: bad containers are InvalidContainerError", () => {
  const good = encodeContainer([Uint8Array.of(1)]);
  const enc = (v: unknown) => "C" + base64url.baseEncode(dagCbor.encode(v));
  const cases: [string, string][] = [
    ["", "empty"],
    ["   ", "empty"],
    ["X" + good.slice(1), "unknown container header"],
    ["@abc", "unknown container header"],
    ["P" + good.slice(1), "compressed"],
    ["O" + good.slice(1), "compressed"],
    ["C" + good.slice(1) + "!", "not valid base64url"],
    ["C" + good.slice(1) + "=", "base64url"],
    ["C" + good.slice(1).replace(/.$/, "B"), "base64url"],
    ["B" + good.slice(1), "base64"],
    ["CAAAA", "not DAG-CBOR"],
    [enc([]), "is the map"],
    [enc({ "ctn-v2": [] }), "is the map"],
    [enc({ "ctn-v1": [], x: 1 }), "is the map"],
    [enc({ "ctn-v1": {} }), "is the map"],
    [enc({ "ctn-v1": ["text"] }), "entry 0 is not bytes"],
    [enc({ "ctn-v1": [new Uint8Array(64 * 1024 + 1)] }), "larger than a token"],
    [enc({ "ctn-v1": Array(MAX_CONTAINER_TOKENS + 1).fill(Uint8Array.of(1)) }), "at most"],
  ];
  for (const [text, why] of cases) {
    const e = assertThrows(() => decodeContainer(text), InvalidContainerError, why, JSON.stringify(text.slice(0, 30)));
    assertEquals((e as InvalidContainerError).code, "E_UCAN_INVALID_CONTAINER");
  }
  assertThrows(() => decodeContainer("C" + "A".repeat(5 * 1024 * 1024)), InvalidContainerError, "longer than");
  assertThrows(() => encodeContainer(Array(MAX_CONTAINER_TOKENS + 1).fill(Uint8Array.of(1))), InvalidContainerError);
  assertThrows(() => parseChain(encodeContainer([])), InvalidContainerError, "no delegation");
  assertThrows(() => parseChain(encodeContainer([Uint8Array.of(1)])), MalformedTokenError);
  const [a] = signers(1);
  const inv = invoke(a, { sub: a.did, cmd: "/x", args: {}, prf: [] });
  assertThrows(() => parseChain(encodeContainer([inv.bytes])), MalformedTokenError, "not a delegation");
  assert(decodeContainer(good).length === 1);
});

/**
 * The `/macula/state/1` decoder: round trips, every kind of bad input as a
 * typed `StateError`, and a 10,000-case fuzz loop.
 */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { mutate } from "../helpers/mutate.ts";
import { StateError } from "../../src/state/errors.ts";
import {
  decodeStateMessage,
  encodeStateMessage,
  MAX_STATE_FRAME,
  type StateMessage,
} from "../../src/state/messages.ts";
import { Replica } from "../../src/state/replica.ts";
import { encodeCbor } from "../../src/wire/cbor.ts";

const A = "ab".repeat(32);
const stamp = { t: 1_700_000_000_000, c: 3, o: A };

function samples(): StateMessage[] {
  const r = new Replica(A);
  r.set("mode", { level: 3, tags: ["a", "b"] });
  r.set("bytes", new Uint8Array([1, 2, 3]));
  r.set("gone", 1);
  r.delete("gone");
  return [
    { t: "sync", realm: "io.acme", name: "fleet", vector: r.vector() },
    { t: "delta", realm: "io.acme", name: "fleet", entries: r.all() },
    { t: "delta", realm: "io.acme", name: "fleet", entries: r.all(), vector: r.vector() },
    { t: "sync", realm: "r", name: "n", vector: new Map() },
  ];
}

Deno.test("state messages: round trips", () => {
  for (const m of samples()) assertEquals(decodeStateMessage(encodeStateMessage(m)), m);
});

const bad = (raw: unknown) => () => decodeStateMessage(encodeCbor(raw));
const entry = (over: Partial<Record<number, unknown>> = {}) => {
  const e: unknown[] = ["k", stamp.t, stamp.c, stamp.o, 1, 0, "v"];
  for (const [i, v] of Object.entries(over)) e[Number(i)] = v;
  return e;
};
const delta = (e: unknown[]) => ({ t: "delta", r: "r", n: "n", e });

Deno.test("state messages: bad input is a typed StateError (E_STATE_MESSAGE)", () => {
  const cases: Array<[string, () => unknown]> = [
    ["not CBOR", () => decodeStateMessage(new Uint8Array([0xff, 0x00]))],
    ["empty", () => decodeStateMessage(new Uint8Array())],
    ["too large", () => decodeStateMessage(new Uint8Array(MAX_STATE_FRAME + 1))],
    ["a list", bad([1, 2])],
    ["null", bad(null)],
    ["unknown kind", bad({ t: "nope", r: "r", n: "n" })],
    ["bad realm", bad({ t: "sync", r: "../x", n: "n", v: [] })],
    ["bad name", bad({ t: "sync", r: "r", n: "", v: [] })],
    ["name not a string", bad({ t: "sync", r: "r", n: 5, v: [] })],
    ["extra sync field", bad({ t: "sync", r: "r", n: "n", v: [], x: 1 })],
    ["vector not a list", bad({ t: "sync", r: "r", n: "n", v: {} })],
    ["vector item not a pair", bad({ t: "sync", r: "r", n: "n", v: [[A]] })],
    ["vector writer not hex", bad({ t: "sync", r: "r", n: "n", v: [["zz", 1]] })],
    ["vector seq negative", bad({ t: "sync", r: "r", n: "n", v: [[A, -1]] })],
    ["vector seq fractional", bad({ t: "sync", r: "r", n: "n", v: [[A, 1.5]] })],
    ["writes not a list", bad({ t: "delta", r: "r", n: "n", e: 3 })],
    ["write not a list", bad(delta([3]))],
    ["write too short", bad(delta([["k", 1, 2]]))],
    ["empty key", bad(delta([entry({ 0: "" })]))],
    ["long key", bad(delta([entry({ 0: "k".repeat(300) })]))],
    ["key not a string", bad(delta([entry({ 0: 7 })]))],
    ["stamp negative", bad(delta([entry({ 1: -5 })]))],
    ["stamp a string", bad(delta([entry({ 1: "1" })]))],
    ["counter too big", bad(delta([entry({ 2: 2 ** 40 })]))],
    ["writer uppercase", bad(delta([entry({ 3: A.toUpperCase() })]))],
    ["seq zero", bad(delta([entry({ 4: 0 })]))],
    ["deleted flag 2", bad(delta([entry({ 5: 2 })]))],
    ["tombstone with a value", bad(delta([entry({ 5: 1, 6: "v" })]))],
    ["value too large", bad(delta([entry({ 6: "x".repeat(20_000) })]))],
    ["extra delta field", bad({ ...delta([]), x: 1 })],
    ["extra delta field with vector", bad({ ...delta([]), v: [], x: 1 })],
    ["bad delta vector", bad({ ...delta([]), v: [[A, "1"]] })],
  ];
  for (const [what, run] of cases) {
    const e = assertThrows(run, StateError, undefined, what);
    assertEquals((e as StateError).code, "E_STATE_MESSAGE", what);
  }
});

Deno.test("state messages: 10,000 mutated inputs decode or throw StateError, nothing else", () => {
  const seeds = samples().map(encodeStateMessage);
  let decoded = 0;
  for (let i = 0; i < 10_000; i++) {
    const input = mutate(seeds[i % seeds.length], i);
    try {
      const m = decodeStateMessage(input);
      decoded++;
      assert(m.t === "sync" || m.t === "delta");
      assertEquals(decodeStateMessage(encodeStateMessage(m)), m, `case ${i} re-encodes`);
    } catch (error) {
      if (!(error instanceof StateError)) throw new Error(`case ${i}: ${error}`);
      assertEquals(error.code, "E_STATE_MESSAGE");
    }
  }
  assert(decoded > 0 && decoded < 10_000, `decoded ${decoded}`);
});

import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import {
  any,
  array,
  bool,
  bytes,
  literal,
  messageDecoder,
  object,
  optional,
  str,
  uint,
} from "../../src/wire/schema.ts";
import { decodeCbor, encodeCbor } from "../../src/wire/cbor.ts";
import { WireError } from "../../src/wire/errors.ts";

const decode = messageDecoder(
  "example",
  object({
    id: bytes({ length: 4 }),
    name: str({ max: 8 }),
    n: uint({ max: 100 }),
    on: bool(),
    kind: literal("a", "b"),
    list: array(uint(), { max: 3 }),
    note: optional(str({ max: 5 })),
    data: any(),
  }),
);

const good = {
  id: Uint8Array.of(1, 2, 3, 4),
  name: "x",
  n: 5,
  on: true,
  kind: "a",
  list: [1, 2],
  data: { nested: [1] },
};

Deno.test("valid messages decode to typed values; unknown fields are ignored", () => {
  const v = decode(encodeCbor({ ...good, extra: 1 }));
  assertEquals(v.id, good.id);
  assertEquals(v.name, "x");
  assertEquals(v.list, [1, 2]);
  assertEquals(v.note, undefined);
  assert(!("extra" in v));
});

Deno.test("every wrong type, length and limit is a WireError naming the field", () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ ...good, id: Uint8Array.of(1) }, "id"],
    [{ ...good, id: "abcd" }, "id"],
    [{ ...good, name: "123456789" }, "name"],
    [{ ...good, name: 5 }, "name"],
    [{ ...good, n: 101 }, "n"],
    [{ ...good, n: -1 }, "n"],
    [{ ...good, n: 1.5 }, "n"],
    [{ ...good, n: 2n ** 70n }, "n"],
    [{ ...good, on: 1 }, "on"],
    [{ ...good, kind: "c" }, "kind"],
    [{ ...good, list: [1, 2, 3, 4] }, "list"],
    [{ ...good, list: ["x"] }, "list[0]"],
    [{ ...good, note: "too long" }, "note"],
    [{ ...good, id: undefined }, "id"],
  ];
  for (const [value, field] of cases) {
    const e = assertThrows(() => decode(encodeCbor(value)), WireError, field);
    assertEquals((e as WireError).messageType, "example");
    assertEquals((e as WireError).code, "E_WIRE_INVALID");
  }
  for (const top of [null, 1, "s", [], Uint8Array.of(1), new Date(0), new Set([1])]) {
    assertThrows(() => decode(encodeCbor(top)), WireError);
  }
});

Deno.test("malformed CBOR is E_WIRE_MALFORMED; deep nesting does not crash", () => {
  for (
    const bad of [
      new Uint8Array(0),
      Uint8Array.of(0xff),
      Uint8Array.of(0x01, 0x02),
      Uint8Array.of(0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
    ]
  ) {
    const e = assertThrows(() => decode(bad), WireError);
    assertEquals((e as WireError).code, "E_WIRE_MALFORMED");
  }
  assertThrows(() => decodeCbor(new Uint8Array(100_000).fill(0x81), "deep"), WireError);
});

Deno.test("__proto__ keys cannot pollute prototypes", () => {
  const evil = Uint8Array.of(0xa1, 0x69, ...new TextEncoder().encode("__proto__"), 0xa1, 0x61, 0x78, 0x01);
  decodeCbor(evil, "evil");
  assertEquals(({} as Record<string, unknown>).x, undefined);
});

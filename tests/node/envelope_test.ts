/** The one request envelope: its error model and its decoder. */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { decodeEnvelope, errorReply, RemoteError, remoteFailure, RemoteHandlerError } from "../../src/node/envelope.ts";
import { NotAuthorizedError } from "../../src/node/authorize.ts";
import { MaculaError } from "../../src/util/errors.ts";
import { encodeCbor } from "../../src/wire/cbor.ts";
import { WireError } from "../../src/wire/errors.ts";

Deno.test("errorReply: MaculaErrors keep their code, other errors are E_HANDLER; both truncated", () => {
  assertEquals(errorReply(3, new MaculaError("E_BUSY", "busy")), { i: 3, e: { c: "E_BUSY", m: "busy" } });
  assertEquals(errorReply(4, new Error("boom")), { i: 4, e: { c: "E_HANDLER", m: "boom" } });
  assertEquals(errorReply(5, "a string").e.m, "a string");
  const long = errorReply(6, new MaculaError("E_" + "X".repeat(100), "y".repeat(5000)));
  assertEquals(long.e.c.length, 64);
  assertEquals(long.e.m.length, 1000);
});

Deno.test("remoteFailure: one typed error per code", () => {
  assert(remoteFailure({ c: "E_NOT_AUTHORIZED", m: "no" }, "x") instanceof NotAuthorizedError);
  const handler = remoteFailure({ c: "E_HANDLER", m: "sensor offline" }, "read") as RemoteHandlerError;
  assert(handler instanceof RemoteHandlerError);
  assertEquals(handler.remoteMessage, "sensor offline");
  assertEquals(handler.handler, "read");
  const other = remoteFailure({ c: "E_BUSY", m: "later" }, "x") as RemoteError;
  assert(other instanceof RemoteError);
  assertEquals([other.code, other.remoteCode], ["E_BUSY", "E_BUSY"]);
  assertEquals((remoteFailure({ c: "WEIRD", m: "?" }, "x") as RemoteError).code, "E_REMOTE");
});

Deno.test("decodeEnvelope: requests with and without auth, replies, errors; bad shapes are WireErrors", () => {
  assertEquals(decodeEnvelope(encodeCbor({ i: 1, b: [1, 2] })).b, [1, 2]);
  assertEquals(decodeEnvelope(encodeCbor({ i: 1, b: null, u: { t: "cap" } })).u, { t: "cap" });
  assertEquals(decodeEnvelope(encodeCbor({ i: 2, e: { c: "E_X", m: "m" } })).e, { c: "E_X", m: "m" });
  for (const bad of [{ b: 1 }, { i: -1, b: 1 }, { i: "1" }, { i: 1, e: { c: 1, m: "" } }, { i: 1, e: "x" }, [1], "x"]) {
    assertThrows(() => decodeEnvelope(encodeCbor(bad)), WireError, undefined, JSON.stringify(bad));
  }
  assertThrows(() => decodeEnvelope(encodeCbor({ i: 1, e: { c: "E".repeat(65), m: "" } })), WireError);
});

/** The action decoder: bad input gets a typed 400, never anything else; a 10,000-case fuzz loop. */
import { ConsoleActionError, decodeConsoleAction, MAX_ACTION_PAYLOAD } from "../../src/console/actions.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { NodeId } from "../../src/identity/node-id.ts";
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { rng } from "../helpers/mutate.ts";

const DID = new NodeId(KeyPair.generate().publicKey).did;

Deno.test("decode: good bodies", () => {
  assertEquals(decodeConsoleAction("ping", { peer: DID }), { kind: "ping", peer: DID });
  assertEquals(decodeConsoleAction("publish", { kind: "publish", realm: "r", topic: "a.b", payload: "" }), {
    kind: "publish",
    realm: "r",
    topic: "a.b",
    payload: "",
  });
  assertEquals(decodeConsoleAction("call", { procedure: "p", args: { x: [1] }, timeout: 100 }), {
    kind: "call",
    procedure: "p",
    args: { x: [1] },
    timeout: 100,
  });
  assertEquals(decodeConsoleAction("call", { procedure: "p" }), { kind: "call", procedure: "p", args: null });
});

Deno.test("decode: bad bodies are ConsoleActionError 400 E_CONSOLE_ACTION with a one-line message", () => {
  const cases: Array<[string, unknown, string]> = [
    ["reboot", {}, "unknown action"],
    ["ping", null, "JSON object"],
    ["ping", [], "JSON object"],
    ["ping", "x", "JSON object"],
    ["ping", {}, '"peer"'],
    ["ping", { peer: "did:key:nope" }, "did:key"],
    ["ping", { peer: 5 }, '"peer"'],
    ["ping", { peer: DID, kind: "call" }, '"kind"'],
    ["ping", { peer: DID, extra: 1 }, "unknown field"],
    ["publish", { topic: "t" }, '"payload"'],
    ["publish", { topic: "", payload: "x" }, '"topic"'],
    ["publish", { topic: "t".repeat(256), payload: "x" }, '"topic"'],
    ["publish", { topic: "t", payload: 1 }, '"payload"'],
    ["publish", { topic: "t", payload: "x".repeat(MAX_ACTION_PAYLOAD + 1) }, '"payload"'],
    ["publish", { topic: "t", payload: "x", realm: 3 }, '"realm"'],
    ["call", { procedure: "p", timeout: 0 }, '"timeout"'],
    ["call", { procedure: "p", timeout: 1.5 }, '"timeout"'],
    ["call", { procedure: "p", timeout: "9" }, '"timeout"'],
    ["call", { procedure: "p", timeout: 60_001 }, '"timeout"'],
    ["call", { args: 1 }, '"procedure"'],
  ];
  for (const [kind, body, includes] of cases) {
    const e = assertThrows(() => decodeConsoleAction(kind, body), ConsoleActionError, includes) as ConsoleActionError;
    assertEquals(e.status, 400);
    assertEquals(e.code, "E_CONSOLE_ACTION");
    assert(!e.message.includes("\n"));
  }
});

function randomValue(r: () => number, depth = 0): unknown {
  const pick = Math.floor(r() * (depth > 2 ? 6 : 9));
  switch (pick) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return [0, -1, 1.5, 1e9, 60_000, 60_001, NaN, Infinity][Math.floor(r() * 8)];
    case 3:
      return [
        "",
        "a",
        "a.b",
        DID,
        "did:key:z",
        "x".repeat(Math.floor(r() * 300)),
        "ping",
        "\u0000",
      ][Math.floor(r() * 8)];
    case 4:
      return String.fromCharCode(...Array.from({ length: Math.floor(r() * 20) }, () => Math.floor(r() * 0xffff)));
    case 5:
      return undefined;
    case 6:
      return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
    default: {
      const keys = ["kind", "peer", "topic", "payload", "realm", "procedure", "args", "timeout", "__proto__", "x"];
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(r() * 5); i > 0; i--) o[keys[Math.floor(r() * keys.length)]] = randomValue(r, depth + 1);
      return o;
    }
  }
}

Deno.test("decode: fuzz, 10,000 random bodies: a valid action or ConsoleActionError, nothing else", () => {
  const r = rng(0xc0ffee);
  const kinds = ["ping", "publish", "call", "", "PING", "x"];
  let accepted = 0;
  for (let i = 0; i < 10_000; i++) {
    const kind = kinds[Math.floor(r() * kinds.length)];
    const body = randomValue(r);
    try {
      const action = decodeConsoleAction(kind, body);
      accepted++;
      assertEquals(action.kind, kind);
      if (action.kind === "ping") NodeId.fromDid(action.peer);
      if (action.kind === "publish") assert(typeof action.topic === "string" && typeof action.payload === "string");
      if (action.kind === "call") {
        assert(typeof action.procedure === "string");
        assert(action.timeout === undefined || (Number.isInteger(action.timeout) && action.timeout >= 1));
      }
    } catch (error) {
      if (!(error instanceof ConsoleActionError)) throw error;
      assertEquals(error.status, 400);
    }
  }
  assert(accepted > 0, "some random bodies are valid");
});

/** `decide`: the composition of the node-wide policy and a handler's own hook. */
import { assert, assertEquals } from "../helpers/assert.ts";
import { type Authorize, decide, type Operation } from "../../src/node/authorize.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { NodeId } from "../../src/identity/node-id.ts";

const peer = new NodeId(KeyPair.generate().publicKey);
const op: Operation = { kind: "call", name: "math.add", realm: "default" };

Deno.test("decide: no hook admits, synchronously", () => {
  assertEquals(decide(peer, op), true);
  assertEquals(decide(peer, op, undefined, undefined), true);
});

Deno.test("decide: synchronous hooks give a plain boolean; every hook must admit", () => {
  const yes: Authorize = () => true;
  const no: Authorize = () => false;
  assertEquals(decide(peer, op, yes, yes), true);
  assertEquals(decide(peer, op, yes, no), false);
  assertEquals(decide(peer, op, no, yes), false);
});

Deno.test("decide: async hooks, thrown errors and rejections refuse; order is kept", async () => {
  const asked: string[] = [];
  const slowYes: Authorize = async (_p, o) => {
    asked.push(`policy ${o.kind}`);
    await new Promise((r) => setTimeout(r, 5));
    return true;
  };
  const local: Authorize = (subject, o) => {
    asked.push(`local ${o.name}`);
    return subject.equals(peer);
  };
  const verdict = decide(peer, op, slowYes, local);
  assert(verdict instanceof Promise);
  assertEquals(await verdict, true);
  assertEquals(asked, ["policy call", "local math.add"]);
  assertEquals(
    decide(peer, op, () => {
      throw new Error("boom");
    }),
    false,
  );
  assertEquals(await decide(peer, op, () => Promise.reject(new Error("boom"))), false);
  // Anything but `true` refuses (a truthy non-boolean is no admission).
  assertEquals(decide(peer, op, (() => 1) as unknown as Authorize), false);
  assertEquals(await decide(peer, op, slowYes, () => false), false);
});

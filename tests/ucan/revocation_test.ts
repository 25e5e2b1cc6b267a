/** Revocations: issuing and reading `/ucan/revoke` invocations, and refusing anything else. */
import { CID } from "npm:multiformats@14.0.5/cid";
import { assertEquals, assertThrows } from "../helpers/assert.ts";
import {
  decodeToken,
  delegate,
  InvalidRevocationError,
  Invocation,
  invoke,
  readRevocation,
  revoke,
  REVOKE_COMMAND,
} from "../../src/ucan/mod.ts";
import { rawToken, signers } from "./helpers/tokens.ts";

Deno.test("ucan revocation: revoke() by CID or its text; readRevocation() gives the revoker and the CID", () => {
  const [alice, bob] = signers(2);
  const d = delegate(alice, { aud: bob.did, sub: alice.did, cmd: "/macula", exp: null });
  for (const target of [d.cid, d.id]) {
    const r = revoke(alice, target);
    assertEquals([r.cmd, r.iss, r.sub, r.prf.length, r.exp], [REVOKE_COMMAND, alice.did, alice.did, 0, null]);
    assertEquals(Object.keys(r.args), ["ucan"]);
    const back = decodeToken(r.bytes) as Invocation;
    assertEquals(readRevocation(back), { revoker: alice.did, cid: d.id });
  }
});

Deno.test("ucan revocation: bad targets and non-revocations are InvalidRevocationError", () => {
  const [alice, bob] = signers(2);
  const d = delegate(alice, { aud: bob.did, sub: alice.did, cmd: "/", exp: null });
  assertThrows(() => revoke(alice, "not a cid"), InvalidRevocationError, "not a CID");
  assertThrows(() => revoke(alice, "bafkqaaa"), InvalidRevocationError, "CID of a token");
  assertThrows(
    () => revoke(alice, CID.parse("QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n")),
    InvalidRevocationError,
  );
  const cases: [Invocation, string][] = [
    [invoke(alice, { sub: alice.did, cmd: "/ucan/other", args: { ucan: d.cid }, prf: [] }), "not a revocation"],
    [invoke(bob, { sub: alice.did, cmd: REVOKE_COMMAND, args: { ucan: d.cid }, prf: [d.cid] }), "sub = iss"],
    [invoke(alice, { sub: alice.did, cmd: REVOKE_COMMAND, args: {}, prf: [] }), "exactly { ucan"],
    [invoke(alice, { sub: alice.did, cmd: REVOKE_COMMAND, args: { ucan: d.cid, x: 1 }, prf: [] }), "exactly { ucan"],
    [invoke(alice, { sub: alice.did, cmd: REVOKE_COMMAND, args: { ucan: d.id }, prf: [] }), "CID of a token"],
    [invoke(alice, { sub: alice.did, cmd: REVOKE_COMMAND, args: { ucan: CID.parse("bafkqaaa") }, prf: [] }), "CID"],
  ];
  for (const [inv, why] of cases) {
    const e = assertThrows(() => readRevocation(inv), InvalidRevocationError, why, why);
    assertEquals((e as InvalidRevocationError).code, "E_UCAN_INVALID_REVOCATION");
  }
  // A revocation built by hand with the same fields reads the same as revoke()'s.
  const raw = Invocation.decode(rawToken(alice, {
    iss: alice.did,
    sub: alice.did,
    cmd: REVOKE_COMMAND,
    args: { ucan: d.cid },
    prf: [],
    nonce: new Uint8Array(0),
    exp: null,
  }, "ucan/inv@1.0.0"));
  assertEquals(readRevocation(raw).cid, d.id);
});

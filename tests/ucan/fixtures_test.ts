/**
 * The UCAN specification's own fixtures (1.0.0 and 1.0.0-rc.1 tags): the
 * delegation decodes to its CID and payload, every valid invocation
 * validates at its time, every invalid one fails with the listed error
 * name, and every policy passes or fails as listed.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import {
  decodeToken,
  delegate,
  Delegation,
  evaluatePolicy,
  Invocation,
  UcanError,
  validateInvocation,
  validatePolicy,
} from "../../src/ucan/mod.ts";
import {
  delegationFixture,
  fromBase64,
  invocationCases,
  policyCases,
  principalSigner,
  VERSIONS,
} from "./helpers/fixtures.ts";

for (const version of VERSIONS) {
  Deno.test(`ucan fixtures ${version}: the delegation decodes, verifies, and has the listed CID and payload`, () => {
    const fixture = delegationFixture(version);
    assertEquals(fixture.valid.length, 1);
    for (const c of fixture.valid) {
      const d = Delegation.decode(fromBase64(c.token));
      assertEquals(d.id, c.cid);
      const p = c.envelope.payload;
      assertEquals([d.iss, d.aud, d.sub, d.cmd, d.exp], [p.iss, p.aud, p.sub, p.cmd, p.exp]);
      assertEquals(d.pol, p.pol);
      assertEquals(d.nonce, fromBase64(p.nonce as string));
      // The principals' keys are the fixture's: bob signs as the issuer.
      const names = Object.fromEntries(Object.entries(fixture.principals).map(([n, k]) => [principalSigner(k).did, n]));
      assertEquals(names[d.iss], "bob");
      assertEquals(names[d.aud], "carol");
    }
  });

  Deno.test(`ucan fixtures ${version}: every valid invocation validates at its time`, () => {
    const { valid } = invocationCases(version);
    assertEquals(valid.length, 7);
    for (const c of valid) {
      const inv = decodeToken(fromBase64(c.invocation["/"].bytes));
      assert(inv instanceof Invocation, c.name);
      const proofs = new Map<string, Delegation>();
      for (const p of c.proofs) {
        const d = Delegation.decode(fromBase64(p["/"].bytes));
        proofs.set(d.id, d);
      }
      const chain = validateInvocation(inv, proofs, { now: c.time });
      assertEquals(chain.subject, inv.sub, c.name);
      assertEquals(chain.links.length, c.proofs.length, c.name);
    }
  });

  Deno.test(`ucan fixtures ${version}: every invalid invocation fails with the listed error`, () => {
    const { invalid } = invocationCases(version);
    assertEquals(invalid.length, 13);
    for (const c of invalid) {
      let error: unknown;
      try {
        const inv = Invocation.decode(fromBase64(c.invocation["/"].bytes));
        const proofs = new Map<string, Delegation>();
        for (const p of c.proofs) {
          const d = Delegation.decode(fromBase64(p["/"].bytes));
          proofs.set(d.id, d);
        }
        validateInvocation(inv, proofs, { now: c.time });
      } catch (e) {
        error = e;
      }
      assert(error instanceof UcanError, `${c.name}: expected ${c.error?.name}, got ${error}`);
      assertEquals(error.name, c.error?.name, `${c.name}: ${error.message}`);
    }
  });

  Deno.test(`ucan fixtures ${version}: every policy passes or fails as listed`, () => {
    const { valid, invalid } = policyCases(version);
    let count = 0;
    for (const [cases, expected] of [[valid, true], [invalid, false]] as const) {
      for (const c of cases) {
        for (const pol of c.policies) {
          const policy = validatePolicy(pol);
          assertEquals(evaluatePolicy(policy, c.args), expected, `${JSON.stringify(pol)} on ${JSON.stringify(c.args)}`);
          count++;
        }
      }
    }
    assertEquals(count, 25);
  });
}

// This library writes @1.0.0 tags, so only the 1.0.0 fixture can be reproduced byte for byte.
Deno.test(`ucan fixtures 1.0.0: re-issuing the fixture delegation with its nonce gives its bytes exactly`, () => {
  const fixture = delegationFixture("1.0.0");
  const c = fixture.valid[0];
  const bob = principalSigner(fixture.principals.bob);
  const p = c.envelope.payload;
  const d = delegate(bob, {
    aud: p.aud as string,
    sub: p.sub as string,
    cmd: p.cmd as string,
    pol: p.pol as [],
    exp: p.exp as number,
    nonce: fromBase64(p.nonce as string),
  });
  assertEquals(d.bytes, fromBase64(c.token));
  assertEquals(d.id, c.cid);
});

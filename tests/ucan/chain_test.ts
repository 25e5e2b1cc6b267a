/**
 * Delegation chains: linkage, binding to the invoker, subjects and
 * powerlines, time bounds with skew, no-clock mode, attenuation by command
 * and policy (escalation, prefix confusion), revocation of a middle link,
 * and invocation validation.
 */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import {
  type ChainOptions,
  delegate,
  type Delegation,
  ExpiredError,
  InvalidAudienceError,
  InvalidClaimError,
  InvalidSubjectError,
  invoke,
  MatchError,
  MAX_CHAIN_LENGTH,
  NoClockError,
  RevokedError,
  TooEarlyError,
  type UcanSigner,
  UnavailableProofError,
  validateInvocation,
  verifyChain,
} from "../../src/ucan/mod.ts";
import { namespacePolicy } from "../../src/auth/namespace.ts";
import { operationInvocation } from "../../src/auth/commands.ts";
import { NOW, signers } from "./helpers/tokens.ts";

const args = (name: string) => ({ realm: "io.acme", name });

/** authority → owner (namespace io.acme) → app → node, like an admitted app's chain. */
function appChain(exp: number | null = NOW + 3600) {
  const [authority, owner, app, node] = signers(4);
  const d0 = delegate(authority, {
    aud: owner.did,
    sub: authority.did,
    cmd: "/macula",
    pol: namespacePolicy("io.acme.plant3"),
    exp,
  });
  const d1 = delegate(owner, { aud: app.did, sub: authority.did, cmd: "/macula/pubsub", exp });
  const d2 = delegate(app, { aud: node.did, sub: authority.did, cmd: "/macula", exp });
  return { authority, owner, app, node, links: [d0, d1, d2] };
}

Deno.test("ucan chain: a valid 3-link chain verifies and covers what every link allows", () => {
  const { authority, node, links } = appChain();
  const chain = verifyChain(links, { audience: node.did, roots: new Set([authority.did]), now: NOW });
  assertEquals([chain.subject, chain.audience, chain.expires, chain.notBefore], [
    authority.did,
    node.did,
    NOW + 3600,
    null,
  ]);
  assertEquals(chain.cids, links.map((l) => l.id));
  const publish = operationInvocation({ kind: "publish", name: "io.acme.plant3.temp", realm: "io.acme" });
  assert(chain.covers(publish.cmd, publish.args));
  assertEquals(chain.explain(publish.cmd, publish.args), undefined);
  assert(chain.covers("/macula/pubsub/subscribe", args("io.acme.plant3")));
  assert(!chain.covers("/macula/rpc/call", args("io.acme.plant3.temp")), "link 1 delegates pubsub only");
  assert(chain.explain("/macula/rpc/call", args("io.acme.plant3.temp"))!.includes("does not cover /macula/rpc/call"));
  assert(!chain.covers("/macula/pubsub/publish", args("io.acme.plant4.temp")), "outside the namespace");
  assert(chain.explain("/macula/pubsub/publish", args("io.acme.plant4.temp"))!.includes("policy"));
});

Deno.test("ucan chain: a broken chain (aud ≠ next iss) is InvalidAudience", () => {
  const [a, b, c, d] = signers(4);
  const d0 = delegate(a, { aud: b.did, sub: a.did, cmd: "/", exp: null });
  const d1 = delegate(c, { aud: d.did, sub: a.did, cmd: "/", exp: null });
  assertThrows(() => verifyChain([d0, d1], { audience: d.did }), InvalidAudienceError, `is issued by ${c.did}`);
  // Out of order, the root is not issued by its subject.
  assertThrows(() => verifyChain([d1, d0], { audience: b.did }), InvalidSubjectError);
  // A missing middle link breaks the linkage too.
  const d2 = delegate(b, { aud: c.did, sub: a.did, cmd: "/", exp: null });
  verifyChain([d0, d2, d1], { audience: d.did });
  assertThrows(() => verifyChain([d0, d1], { audience: d.did }), InvalidAudienceError);
});

Deno.test("ucan chain: a token stolen and presented by another peer is InvalidAudience (no bearer tokens)", () => {
  const { authority, node, links } = appChain();
  const [thief] = signers(1);
  const e = assertThrows(
    () => verifyChain(links, { audience: thief.did, roots: new Set([authority.did]), now: NOW }),
    InvalidAudienceError,
    "not to the invoker",
  );
  assertEquals((e as InvalidAudienceError).code, "E_UCAN_INVALID_AUDIENCE");
  // The thief cannot extend it either: the last link is to the node, not to the thief.
  const extended = delegate(thief, { aud: thief.did, sub: authority.did, cmd: "/macula", exp: null });
  assertThrows(() => verifyChain([...links, extended], { audience: thief.did, now: NOW }), InvalidAudienceError);
  verifyChain(links, { audience: node.did, now: NOW });
});

Deno.test("ucan chain: subjects: sub null refused at the root, accepted below; others must match", () => {
  const [a, b, c, x] = signers(4);
  const powerRoot = delegate(a, { aud: b.did, sub: null, cmd: "/", exp: null });
  assertThrows(() => verifyChain([powerRoot], { audience: b.did }), InvalidClaimError, "sub: null");
  const root = delegate(a, { aud: b.did, sub: a.did, cmd: "/", exp: null });
  const powerline = delegate(b, { aud: c.did, sub: null, cmd: "/", exp: null });
  assertEquals(verifyChain([root, powerline], { audience: c.did }).subject, a.did);
  const other = delegate(b, { aud: c.did, sub: x.did, cmd: "/", exp: null });
  assertThrows(() => verifyChain([root, other], { audience: c.did }), InvalidSubjectError, "not the chain's");
  const notSelf = delegate(a, { aud: b.did, sub: x.did, cmd: "/", exp: null });
  assertThrows(() => verifyChain([notSelf], { audience: b.did }), InvalidSubjectError, "issued by");
  assertThrows(
    () => verifyChain([root], { audience: b.did, roots: new Set([x.did]) }),
    InvalidSubjectError,
    "not an accepted root",
  );
  assertEquals(verifyChain([root], { audience: b.did, roots: new Set([x.did, a.did]) }).subject, a.did);
});

Deno.test("ucan chain: expired and not-yet-valid links, at the skew edges", () => {
  const [a, b] = signers(2);
  const expiring = [delegate(a, { aud: b.did, sub: a.did, cmd: "/", exp: NOW })];
  const opts = (now: number, skew?: number): ChainOptions => ({ audience: b.did, now, skew });
  verifyChain(expiring, opts(NOW));
  verifyChain(expiring, opts(NOW + 60)); // the default skew is 60 s, inclusive
  assertThrows(() => verifyChain(expiring, opts(NOW + 61)), ExpiredError, "expired at");
  verifyChain(expiring, opts(NOW + 300, 300));
  assertThrows(() => verifyChain(expiring, opts(NOW + 1, 0)), ExpiredError);
  const later = [delegate(a, { aud: b.did, sub: a.did, cmd: "/", nbf: NOW, exp: null })];
  verifyChain(later, opts(NOW));
  verifyChain(later, opts(NOW - 60));
  const e = assertThrows(() => verifyChain(later, opts(NOW - 61)), TooEarlyError, "not valid before");
  assertEquals((e as TooEarlyError).name, "TooEarly");
  assertThrows(() => verifyChain(later, opts(NOW - 1, 0)), TooEarlyError);
  assertThrows(() => verifyChain(later, opts(NOW, -1)), RangeError);
  // Any link counts: an expired middle link fails the chain.
  const { node, links } = appChain(NOW + 100);
  verifyChain(links, { audience: node.did, now: NOW + 160 });
  assertThrows(() => verifyChain(links, { audience: node.did, now: NOW + 161 }), ExpiredError, "delegation 0");
});

Deno.test("ucan chain: without a clock only tokens without nbf/exp pass", () => {
  const [a, b] = signers(2);
  const timeless = delegate(a, { aud: b.did, sub: a.did, cmd: "/", exp: null });
  assertEquals(verifyChain([timeless], { audience: b.did }).expires, null);
  const withExp = delegate(a, { aud: b.did, sub: a.did, cmd: "/", exp: NOW + 10 ** 6 });
  const withNbf = delegate(a, { aud: b.did, sub: a.did, cmd: "/", nbf: 0, exp: null });
  for (const d of [withExp, withNbf]) {
    const e = assertThrows(() => verifyChain([d], { audience: b.did }), NoClockError, "no trustworthy clock");
    assertEquals((e as NoClockError).code, "E_UCAN_NO_CLOCK");
  }
});

Deno.test("ucan chain: escalation: a child broader than its parent covers nothing beyond the parent", () => {
  const [a, b, c] = signers(3);
  const parent = delegate(a, {
    aud: b.did,
    sub: a.did,
    cmd: "/macula/pubsub",
    pol: namespacePolicy("io.acme.plant3"),
    exp: null,
  });
  const child = delegate(b, { aud: c.did, sub: a.did, cmd: "/", pol: [], exp: null });
  const chain = verifyChain([parent, child], { audience: c.did });
  assert(chain.covers("/macula/pubsub/publish", args("io.acme.plant3.temp")));
  assert(!chain.covers("/macula/rpc/call", args("io.acme.plant3.temp")), "a broader command grants nothing");
  assert(!chain.covers("/", args("io.acme.plant3.temp")));
  assert(!chain.covers("/macula/pubsub/publish", args("io.evil.x")), "a broader policy grants nothing");
  // And a narrower child narrows.
  const narrow = delegate(b, {
    aud: c.did,
    sub: a.did,
    cmd: "/macula/pubsub/subscribe",
    pol: [["like", ".name", "io.acme.plant3.public.*"]],
    exp: null,
  });
  const narrowed = verifyChain([parent, narrow], { audience: c.did });
  assert(narrowed.covers("/macula/pubsub/subscribe", args("io.acme.plant3.public.temp")));
  assert(!narrowed.covers("/macula/pubsub/subscribe", args("io.acme.plant3.temp")));
  assert(!narrowed.covers("/macula/pubsub/publish", args("io.acme.plant3.public.temp")));
});

Deno.test("ucan chain: prefix confusion of commands and namespaces", () => {
  const [a, b] = signers(2);
  const chain = verifyChain([
    delegate(a, { aud: b.did, sub: a.did, cmd: "/macula/pubsub", pol: namespacePolicy("io.acme.user"), exp: null }),
  ], { audience: b.did });
  assert(chain.covers("/macula/pubsub/publish", args("io.acme.user")));
  assert(chain.covers("/macula/pubsub/publish", args("io.acme.user.profile")));
  assert(!chain.covers("/macula/pubsubx", args("io.acme.user")), "/macula/pubsub does not prove /macula/pubsubx");
  assert(!chain.covers("/macula/pubsubx/publish", args("io.acme.user")));
  assert(!chain.covers("/macula/pubsub/publish", args("io.acme.username")), "io.acme.user is not io.acme.username");
  assert(!chain.covers("/macula/pubsub/publish", args("io.acme.user_x.y")));
});

Deno.test("ucan chain: policies on wrong types cover nothing and never throw", () => {
  const [a, b] = signers(2);
  const chain = verifyChain([
    delegate(a, {
      aud: b.did,
      sub: a.did,
      cmd: "/macula",
      pol: [...namespacePolicy("io.acme.plant3"), [">=", ".qos", 1], ["all", ".tags", ["like", ".", "t*"]]],
      exp: null,
    }),
  ], { audience: b.did });
  assert(chain.covers("/macula/pubsub/publish", { name: "io.acme.plant3", qos: 2, tags: ["t1"] }));
  for (
    const bad of [
      { name: 42, qos: 2, tags: [] },
      { name: ["io.acme.plant3"], qos: 2, tags: [] },
      { name: { x: 1 }, qos: 2, tags: [] },
      { name: "io.acme.plant3", qos: "2", tags: [] },
      { name: "io.acme.plant3", qos: 2, tags: "t1" },
      { name: "io.acme.plant3", qos: 2, tags: [1] },
      { name: null, qos: null, tags: null },
      {},
    ]
  ) {
    assert(!chain.covers("/macula/pubsub/publish", bad), JSON.stringify(bad));
  }
  for (const bad of [null, undefined, 7, "io.acme.plant3", [], new Uint8Array(3)]) {
    assert(!chain.covers("/macula/pubsub/publish", bad));
  }
});

Deno.test("ucan chain: revocation of a middle link, by an issuer at or above it only", () => {
  const { authority, owner, app, node, links } = appChain();
  const [stranger] = signers(1);
  const middle = links[1];
  const calls: [string, string[]][] = [];
  const revokedBy = (revoker: UcanSigner | undefined): ChainOptions => ({
    audience: node.did,
    now: NOW,
    isRevoked(cid, issuers) {
      calls.push([cid, [...issuers]]);
      return revoker !== undefined && cid === middle.id && issuers.includes(revoker.did);
    },
  });
  verifyChain(links, revokedBy(undefined));
  assertEquals(calls, [
    [links[0].id, [authority.did]],
    [links[1].id, [authority.did, owner.did]],
    [links[2].id, [authority.did, owner.did, app.did]],
  ], "called for every link with its issuer and the issuers above it");
  for (const revoker of [authority, owner]) {
    const e = assertThrows(() => verifyChain(links, revokedBy(revoker)), RevokedError, middle.id);
    assertEquals((e as RevokedError).cid, middle.id);
  }
  // The app issued only the link below: its revocation of the middle link is ignored; so is a stranger's.
  verifyChain(links, revokedBy(app));
  verifyChain(links, revokedBy(stranger));
});

Deno.test("ucan chain: empty, too long and non-Delegation chains are InvalidClaim", () => {
  const [a] = signers(1);
  assertThrows(() => verifyChain([], { audience: a.did }), InvalidClaimError, "at least one");
  const self = delegate(a, { aud: a.did, sub: a.did, cmd: "/", exp: null });
  verifyChain(Array(MAX_CHAIN_LENGTH).fill(self), { audience: a.did });
  assertThrows(() => verifyChain(Array(MAX_CHAIN_LENGTH + 1).fill(self), { audience: a.did }), InvalidClaimError);
  const fake = { ...self } as Delegation;
  assertThrows(() => verifyChain([fake], { audience: a.did }), InvalidClaimError, "decoded Delegations");
});

Deno.test("ucan invocation: validation resolves proofs, binds the invoker and checks the command and args", () => {
  const { authority, node, links } = appChain();
  const proofs = new Map(links.map((l) => [l.id, l]));
  const prf = links.map((l) => l.cid);
  const ok = invoke(node, { sub: authority.did, cmd: "/macula/pubsub/publish", args: args("io.acme.plant3.t"), prf });
  const roots = new Set([authority.did]);
  assertEquals(validateInvocation(ok, proofs, { now: NOW, roots }).audience, node.did);
  const outside = invoke(node, { sub: authority.did, cmd: "/macula/pubsub/publish", args: args("io.acme.x"), prf });
  assertThrows(() => validateInvocation(outside, proofs, { now: NOW }), MatchError, "policy");
  const rpc = invoke(node, { sub: authority.did, cmd: "/macula/rpc/call", args: args("io.acme.plant3.t"), prf });
  assertThrows(() => validateInvocation(rpc, proofs, { now: NOW }), MatchError, "does not cover");
  const [thief] = signers(1);
  const stolen = invoke(thief, {
    sub: authority.did,
    cmd: "/macula/pubsub/publish",
    args: args("io.acme.plant3"),
    prf,
  });
  assertThrows(() => validateInvocation(stolen, proofs, { now: NOW }), InvalidAudienceError);
  const missing = new Map(proofs);
  missing.delete(links[1].id);
  const e = assertThrows(() => validateInvocation(ok, missing, { now: NOW }), UnavailableProofError);
  assertEquals((e as UnavailableProofError).cid, links[1].id);
  const wrong = new Map(proofs);
  wrong.set(links[1].id, links[0]);
  assertThrows(() => validateInvocation(ok, wrong, { now: NOW }), UnavailableProofError);
  const otherSub = invoke(node, { sub: node.did, cmd: "/macula/pubsub/publish", args: args("io.acme.plant3"), prf });
  assertThrows(() => validateInvocation(otherSub, proofs, { now: NOW }), InvalidSubjectError);
  const expired = invoke(node, { sub: authority.did, cmd: "/macula", args: {}, prf, exp: NOW - 61 });
  assertThrows(() => validateInvocation(expired, proofs, { now: NOW }), ExpiredError, "invocation");
  assertThrows(() => validateInvocation(expired, proofs, {}), NoClockError);
});

Deno.test("ucan invocation: the subject invokes without proofs; anyone else needs them", () => {
  const [a, b] = signers(2);
  const self = invoke(a, { sub: a.did, cmd: "/anything", args: { x: 1 }, prf: [] });
  const chain = validateInvocation(self, new Map(), {});
  assertEquals([chain.subject, chain.audience, chain.links.length], [a.did, a.did, 0]);
  assert(chain.covers("/anything", {}));
  assertThrows(() => validateInvocation(self, new Map(), { roots: new Set([b.did]) }), InvalidSubjectError);
  const other = invoke(b, { sub: a.did, cmd: "/anything", args: {}, prf: [] });
  assertThrows(() => validateInvocation(other, new Map(), {}), InvalidClaimError, "names no proof");
});

/**
 * Release records: sign and decode, every field covered by the signature
 * (tampering is refused), bad input and a 10,000-case fuzz of the decoder,
 * semver ordering, and the trust rules (chains rooted at the realm's
 * authorities covering `/macula/registry/publish` on the name).
 */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { mutate } from "../helpers/mutate.ts";
import { hashBytes } from "../../src/content/tree.ts";
import { encodeDidKey } from "../../src/identity/did.ts";
import { domainSeparated } from "../../src/identity/domain-signature.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { delegate, signerFromKeyPair } from "../../src/ucan/mod.ts";
import type { Delegation } from "../../src/ucan/delegation.ts";
import { decodeCbor, encodeCbor } from "../../src/wire/cbor.ts";
import {
  InvalidReleaseError,
  RegistryError,
  ReleaseSignatureError,
  ReleaseUnauthorizedError,
} from "../../src/registry/errors.ts";
import {
  compareVersions,
  decodeRelease,
  encodeRelease,
  type Release,
  type ReleaseFields,
  signRelease,
} from "../../src/registry/release.ts";
import { verifyRelease } from "../../src/registry/verify.ts";
import { decodeIndex, encodeIndex } from "../../src/registry/index-record.ts";
import type { MaculaError } from "../../src/util/errors.ts";

const data = new TextEncoder().encode("#!/bin/sh\necho sensor-agent 1.4.0\n");
const mcid = (await hashBytes(data)).mcid;
const fields: ReleaseFields = {
  name: "io.acme.sensor-agent",
  version: "1.4.0",
  mcid: mcid.toString(),
  size: mcid.size,
  arch: "x86_64",
  notes: "fixes the sampling drift",
};
const nodeKey = KeyPair.generate();
const nodeDid = encodeDidKey(nodeKey.publicKey);
const signWith = (key: KeyPair) => (domain: string, msg: Uint8Array) => key.sign(domainSeparated(domain, msg));

function release(chain: Delegation[] = [], f: ReleaseFields = fields, key = nodeKey): Release {
  return signRelease(f, encodeDidKey(key.publicKey), chain, signWith(key));
}

Deno.test("release: signed, encoded and decoded back with every field", () => {
  const r = release();
  const back = decodeRelease(encodeRelease(r));
  assertEquals(back.name, r.name);
  assertEquals(back.version, "1.4.0");
  assertEquals(back.mcid, r.mcid);
  assertEquals(back.size, data.length);
  assertEquals(back.arch, "x86_64");
  assertEquals(back.notes, r.notes);
  assertEquals(back.issuer, nodeDid);
  assertEquals(back.issued, r.issued);
  assertEquals(back.chain.length, 0);
});

Deno.test("release: changing any signed field afterwards is refused as tampered", () => {
  const r = release();
  const wire = decodeCbor(encodeRelease(r), "t") as Record<string, unknown>;
  const changes: Record<string, unknown> = { n: "io.acme.other-agent", ver: "1.4.1", a: "aarch64", o: "evil", t: 5 };
  for (const [k, v] of Object.entries(changes)) {
    const bytes = encodeCbor({ ...wire, [k]: v });
    assertThrows(() => decodeRelease(bytes), ReleaseSignatureError, "does not verify", `field ${k}`);
  }
  const other = KeyPair.generate();
  const swapped = encodeCbor({ ...wire, i: encodeDidKey(other.publicKey) });
  assertThrows(() => decodeRelease(swapped), ReleaseSignatureError);
});

Deno.test("release: an artifact swapped in (other mcid and size) is refused", async () => {
  const r = release();
  const evil = (await hashBytes(new TextEncoder().encode("rm -rf /"))).mcid;
  const wire = decodeCbor(encodeRelease(r), "t") as Record<string, unknown>;
  const bytes = encodeCbor({ ...wire, m: evil.toString(), z: evil.size });
  assertThrows(() => decodeRelease(bytes), ReleaseSignatureError);
});

Deno.test("release: invalid fields are typed errors naming the field", () => {
  const bad: [Partial<ReleaseFields>, string][] = [
    [{ name: "io.acme" }, "name"],
    [{ name: "IO.acme.agent" }, "name"],
    [{ version: "1.4" }, "semver"],
    [{ version: "01.4.0" }, "semver"],
    [{ mcid: "not-an-mcid" }, "mcid"],
    [{ size: 7 }, "size"],
    [{ arch: "x86-64!" }, "arch"],
    [{ notes: "x".repeat(3000) }, "notes"],
  ];
  for (const [change, word] of bad) {
    const e = assertThrows(() => release([], { ...fields, ...change }), InvalidReleaseError, word);
    assertEquals((e as MaculaError).code, "E_RELEASE_INVALID");
  }
});

Deno.test("release decoder: bad input is InvalidReleaseError", () => {
  const r = release();
  const wire = decodeCbor(encodeRelease(r), "t") as Record<string, unknown>;
  const cases: Uint8Array[] = [
    new Uint8Array(0),
    new Uint8Array([0xff]),
    encodeCbor(null),
    encodeCbor([1, 2]),
    encodeCbor({ ...wire, v: 2 }),
    encodeCbor({ ...wire, s: new Uint8Array(63) }),
    encodeCbor({ ...wire, z: -1 }),
    encodeCbor({ ...wire, c: [new Uint8Array([1, 2, 3])] }),
    encodeCbor({ ...wire, c: "x" }),
    encodeCbor({ ...wire, i: "did:key:zNope" }),
    new Uint8Array(20_000),
  ];
  for (const c of cases) assertThrows(() => decodeRelease(c), InvalidReleaseError);
});

Deno.test("release decoder: 10,000 mutated records decode to a valid release or throw a RegistryError", () => {
  const authority = signerFromKeyPair(KeyPair.generate());
  const d = delegate(authority, { aud: nodeDid, sub: authority.did, cmd: "/macula/registry", exp: null });
  const good = encodeRelease(release([d]));
  let refused = 0;
  for (let i = 0; i < 10_000; i++) {
    const input = mutate(good, i);
    try {
      const r = decodeRelease(input);
      assertEquals(r.name, fields.name); // only an unchanged meaning can pass the signature
    } catch (error) {
      if (!(error instanceof RegistryError)) throw new Error(`case ${i}: ${error}`);
      refused++;
    }
  }
  assert(refused > 9_000, `refused ${refused}`);
});

Deno.test("release: semver ordering", () => {
  const sorted = ["0.9.9", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta", "1.0.0-rc.1", "1.0.0", "1.2.0", "1.10.0"];
  for (let i = 1; i < sorted.length; i++) assert(compareVersions(sorted[i - 1], sorted[i]) < 0, sorted[i]);
  assertEquals(compareVersions("1.0.0+build.5", "1.0.0"), 0);
});

Deno.test("release index: round trip and bad input", () => {
  assertEquals(decodeIndex(encodeIndex(["a", "b"])), ["a", "b"]);
  assertThrows(() => decodeIndex(new Uint8Array([1])), InvalidReleaseError);
  for (let i = 0; i < 10_000; i++) {
    try {
      decodeIndex(mutate(encodeIndex(["b1", "b2", "b3"]), i));
    } catch (error) {
      if (!(error instanceof InvalidReleaseError)) throw error;
    }
  }
});

Deno.test("trust: a chain from the realm authority covering the namespace is accepted; others are refused", () => {
  const authority = signerFromKeyPair(KeyPair.generate());
  const owner = signerFromKeyPair(KeyPair.generate());
  const now = Math.floor(Date.now() / 1000);
  const exp = now + 3600;
  const roots = new Set([authority.did]);
  const realm = "io.acme";
  // the authority gives the owner io.acme.*; the owner delegates publishing to the node
  const ns = delegate(authority, {
    aud: owner.did,
    sub: authority.did,
    cmd: "/macula",
    pol: [["like", ".name", "io.acme.*"]],
    exp,
  });
  const pub = delegate(owner, { aud: nodeDid, sub: authority.did, cmd: "/macula/registry/publish", exp });
  verifyRelease(release([ns, pub]), { realm, roots, now });

  // no chain in a realm with authorities
  assertThrows(() => verifyRelease(release(), { realm, roots, now }), ReleaseUnauthorizedError, "no delegation chain");
  // a chain rooted elsewhere
  const rogue = signerFromKeyPair(KeyPair.generate());
  const fake = delegate(rogue, { aud: nodeDid, sub: rogue.did, cmd: "/macula", exp });
  assertThrows(() => verifyRelease(release([fake]), { realm, roots, now }), ReleaseUnauthorizedError, "chain refused");
  // a chain for another namespace
  const other = delegate(authority, {
    aud: nodeDid,
    sub: authority.did,
    cmd: "/macula",
    pol: [["like", ".name", "io.globex.*"]],
    exp,
  });
  assertThrows(() => verifyRelease(release([other]), { realm, roots, now }), ReleaseUnauthorizedError, "not cover");
  // a chain for another command
  const sub = delegate(authority, { aud: nodeDid, sub: authority.did, cmd: "/macula/pubsub", exp });
  assertThrows(() => verifyRelease(release([sub]), { realm, roots, now }), ReleaseUnauthorizedError, "not cover");
  // an expired chain
  const old = delegate(authority, { aud: nodeDid, sub: authority.did, cmd: "/macula", exp: now - 600 });
  assertThrows(() => verifyRelease(release([old]), { realm, roots, now }), ReleaseUnauthorizedError);
  // a chain held by another key than the issuer's
  const thief = KeyPair.generate();
  assertThrows(
    () => verifyRelease(release([ns, pub], fields, thief), { realm, roots, now }),
    ReleaseUnauthorizedError,
  );
});

Deno.test("trust: an open realm checks the signature, a given chain, and the trusted publishers", () => {
  const now = Math.floor(Date.now() / 1000);
  verifyRelease(release(), { realm: "open", now });
  verifyRelease(release(), { realm: "open", now, trusted: new Set([nodeDid]) });
  assertThrows(
    () => verifyRelease(release(), { realm: "open", now, trusted: new Set(["did:key:z6Mkother"]) }),
    ReleaseUnauthorizedError,
    "not a trusted publisher",
  );
  const owner = signerFromKeyPair(KeyPair.generate());
  const d = delegate(owner, { aud: nodeDid, sub: owner.did, cmd: "/macula/registry/publish", exp: null });
  verifyRelease(release([d]), { realm: "open", now, trusted: new Set([owner.did]) });
});

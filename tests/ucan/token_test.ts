/**
 * Issuing and decoding delegations and invocations: round trips, the
 * envelope's shape, strict decoding (canonical DAG-CBOR, header, tags,
 * field types, principals, sizes) and forged signatures.
 */
import * as dagCbor from "npm:@ipld/dag-cbor@10.0.2";
import { CID } from "npm:multiformats@14.0.5/cid";
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import {
  decodeToken,
  delegate,
  Delegation,
  InvalidCommandError,
  InvalidPolicyError,
  InvalidSignatureError,
  Invocation,
  invoke,
  MalformedTokenError,
  MAX_TOKEN_BYTES,
  UcanError,
  VARSIG_ED25519_DAG_CBOR,
} from "../../src/ucan/mod.ts";
import { cborText, concat, dlgPayload, envelopeOf, NOW, rawToken, signers } from "./helpers/tokens.ts";

Deno.test("ucan token: a delegation round-trips with every field", () => {
  const [alice, bob] = signers(2);
  const nonce = Uint8Array.of(1, 2, 3);
  const d = delegate(alice, {
    aud: bob.did,
    sub: alice.did,
    cmd: "/macula/pubsub",
    pol: [["like", ".name", "io.acme.*"]],
    exp: NOW + 3600,
    nbf: NOW - 10,
    nonce,
    meta: { note: "plant 3", n: 1 },
  });
  const back = Delegation.decode(d.bytes);
  assertEquals(back.id, d.id);
  assert(back.cid.equals(d.cid));
  assertEquals(back.id.slice(0, 4), "bafy");
  assertEquals(
    [back.iss, back.aud, back.sub, back.cmd, back.exp, back.nbf],
    [alice.did, bob.did, alice.did, "/macula/pubsub", NOW + 3600, NOW - 10],
  );
  assertEquals(back.pol, [["like", ".name", "io.acme.*"]]);
  assertEquals(back.nonce, nonce);
  assertEquals(back.meta, { note: "plant 3", n: 1 });
  assert(Object.isFrozen(back.meta) && Object.isFrozen(back.pol));
  // The envelope is [sig, {h, "ucan/dlg@1.0.0": payload}] with the Ed25519 + DAG-CBOR varsig.
  const [sig, signed] = dagCbor.decode(d.bytes) as [Uint8Array, Record<string, unknown>];
  assertEquals(sig.length, 64);
  assertEquals(Object.keys(signed).sort(), ["h", "ucan/dlg@1.0.0"]);
  assertEquals(signed.h, Uint8Array.of(0x34, 0x01, 0xed, 0x01, 0xed, 0x01, 0x13, 0x71));
});

Deno.test("ucan token: defaults are exp null, pol [], 12 random nonce bytes; optional fields are omitted", () => {
  const [alice] = signers(1);
  const a = delegate(alice, { aud: alice.did, sub: null, cmd: "/" });
  const b = delegate(alice, { aud: alice.did, sub: null, cmd: "/" });
  assertEquals([a.exp, a.pol, a.nonce.length, a.sub], [null, [], 12, null]);
  assert(a.id !== b.id, "random nonces make distinct tokens");
  assert(a.nbf === undefined && a.meta === undefined);
  const payload = (dagCbor.decode(a.bytes) as [unknown, Record<string, Record<string, unknown>>])[1]["ucan/dlg@1.0.0"];
  assertEquals(Object.keys(payload).sort(), ["aud", "cmd", "exp", "iss", "nonce", "pol", "sub"]);
});

Deno.test("ucan token: an invocation round-trips; decodeToken tells the kinds apart", () => {
  const [alice, bob] = signers(2);
  const d = delegate(alice, { aud: bob.did, sub: alice.did, cmd: "/msg", exp: null });
  const inv = invoke(bob, {
    sub: alice.did,
    cmd: "/msg/send",
    args: { to: ["carol"], n: 2 },
    prf: [d.cid],
    aud: alice.did,
    exp: NOW + 60,
    iat: NOW,
    meta: { trace: "x" },
    cause: d.cid,
  });
  const back = decodeToken(inv.bytes);
  assert(back instanceof Invocation);
  assertEquals([back.iss, back.sub, back.aud, back.cmd, back.exp, back.iat], [
    bob.did,
    alice.did,
    alice.did,
    "/msg/send",
    NOW + 60,
    NOW,
  ]);
  assertEquals(back.args, { to: ["carol"], n: 2 });
  assert(back.prf[0].equals(d.cid) && back.cause!.equals(d.cid));
  assertEquals(back.id, inv.id);
  assert(decodeToken(d.bytes) instanceof Delegation);
  assertThrows(() => Delegation.decode(inv.bytes), MalformedTokenError, "invocation, not a delegation");
  assertThrows(() => Invocation.decode(d.bytes), MalformedTokenError, "delegation, not an invocation");
});

Deno.test("ucan token: issuing refuses invalid fields before signing", () => {
  const [alice] = signers(1);
  const base = { aud: alice.did, sub: alice.did, cmd: "/x" };
  assertThrows(() => delegate(alice, { ...base, cmd: "/X" }), InvalidCommandError);
  assertThrows(() => delegate(alice, { ...base, pol: [["~", ".a", 1]] }), InvalidPolicyError);
  assertThrows(() => delegate(alice, { ...base, aud: "did:web:example.com" }), MalformedTokenError, "aud");
  assertThrows(() => delegate(alice, { ...base, sub: "did:key:zQ3sh" }), MalformedTokenError, "sub");
  assertThrows(() => delegate(alice, { ...base, exp: 1.5 }), MalformedTokenError, "exp");
  assertThrows(() => delegate(alice, { ...base, exp: -1 }), MalformedTokenError, "exp");
  assertThrows(() => delegate(alice, { ...base, nbf: NOW, exp: NOW - 1 }), MalformedTokenError, "after exp");
  assertThrows(() => delegate(alice, { ...base, meta: [] as unknown as Record<string, unknown> }), MalformedTokenError);
  assertThrows(() => delegate(alice, { ...base, meta: { big: new Uint8Array(MAX_TOKEN_BYTES) } }), MalformedTokenError);
  const liar = { did: signers(1)[0].did, sign: alice.sign };
  assertThrows(() => delegate(liar, base), InvalidSignatureError, "does not verify");
  assertThrows(
    () => invoke(alice, { sub: alice.did, cmd: "/x", args: {}, prf: [CID.parse("bafkqaaa")] }),
    MalformedTokenError,
  );
});

Deno.test("ucan token: a forged signature is InvalidSignature", () => {
  const [alice, mallory] = signers(2);
  const d = delegate(alice, { aud: mallory.did, sub: alice.did, cmd: "/macula", exp: null });
  // One flipped bit anywhere in the signature, or in the signed payload.
  for (const at of [3, 40, 66, d.bytes.length - 1, d.bytes.length - 20]) {
    const forged = Uint8Array.from(d.bytes);
    forged[at] ^= 0x01;
    assertThrows(() => Delegation.decode(forged), UcanError);
  }
  const sigFlip = Uint8Array.from(d.bytes);
  sigFlip[10] ^= 0x80;
  assertThrows(() => Delegation.decode(sigFlip), InvalidSignatureError, alice.did);
  // Mallory signs a payload claiming to be Alice's.
  const claimed = rawToken(mallory, dlgPayload(alice, mallory));
  assertThrows(() => Delegation.decode(claimed), InvalidSignatureError);
  // A signature of the wrong length.
  const [, signed] = dagCbor.decode(d.bytes) as [Uint8Array, unknown];
  assertThrows(() => Delegation.decode(dagCbor.encode([new Uint8Array(63), signed])), InvalidSignatureError);
});

Deno.test("ucan token: non-canonical DAG-CBOR is refused even when validly signed", () => {
  const [alice, bob] = signers(2);
  const payload = dlgPayload(alice, bob);
  const payloadBytes = dagCbor.encode(payload);
  const header = concat(Uint8Array.of(0x48), VARSIG_ED25519_DAG_CBOR);
  const tag = cborText("ucan/dlg@1.0.0");
  // Map keys out of order (the tag before "h"), signed as sent.
  const swapped = concat(Uint8Array.of(0xa2), tag, payloadBytes, cborText("h"), header);
  assertThrows(() => Delegation.decode(envelopeOf(alice, swapped)), MalformedTokenError);
  // The canonical order signs and decodes fine: the difference is the order alone.
  const canonical = concat(Uint8Array.of(0xa2), cborText("h"), header, tag, payloadBytes);
  assertEquals(Delegation.decode(envelopeOf(alice, canonical)).iss, alice.did);
  // A non-minimal length (the header's 8 bytes as 0x58 0x08).
  const longHeader = concat(
    Uint8Array.of(0xa2),
    cborText("h"),
    Uint8Array.of(0x58, 8),
    VARSIG_ED25519_DAG_CBOR,
    tag,
    payloadBytes,
  );
  assertThrows(() => Delegation.decode(envelopeOf(alice, longHeader)), MalformedTokenError);
  // Trailing bytes after the envelope.
  const token = rawToken(alice, payload);
  assertThrows(() => Delegation.decode(concat(token, Uint8Array.of(0))), MalformedTokenError);
  // An indefinite-length outer list.
  assertThrows(
    () => Delegation.decode(concat(Uint8Array.of(0x9f), token.subarray(1), Uint8Array.of(0xff))),
    MalformedTokenError,
  );
});

Deno.test("ucan token: envelope shape, header and tag are checked", () => {
  const [alice, bob] = signers(2);
  const p = dlgPayload(alice, bob);
  const cases: [Uint8Array, string][] = [
    [new Uint8Array(0), "not DAG-CBOR"],
    [dagCbor.encode("text"), "list of a signature"],
    [dagCbor.encode([new Uint8Array(64)]), "list of a signature"],
    [dagCbor.encode(["sig", {}]), "signature is bytes"],
    [dagCbor.encode([new Uint8Array(64), []]), "signed part is a map"],
    [dagCbor.encode([new Uint8Array(64), { h: VARSIG_ED25519_DAG_CBOR }]), "exactly the header h"],
    [dagCbor.encode([new Uint8Array(64), { x: 1, "ucan/dlg@1.0.0": p }]), "exactly the header h"],
    [rawToken(alice, p, "ucan/dlg@0.9.0"), "unknown token type"],
    [rawToken(alice, p, "ucan/rcv@1.0.0"), "unknown token type"],
    [rawToken(alice, p, "ucan/dlg@1.0.0", Uint8Array.of(0x34, 0x01, 0xed, 0x01, 0xed, 0x01, 0x13, 0x5f)), "varsig"],
    [rawToken(alice, p, "ucan/dlg@1.0.0", Uint8Array.of(0x34, 0x01, 0xe7, 0x01)), "varsig"],
    [rawToken(alice, p, "ucan/dlg@1.0.0", Uint8Array.of()), "varsig"],
    [dagCbor.encode([new Uint8Array(64), { h: VARSIG_ED25519_DAG_CBOR, "ucan/dlg@1.0.0": [] }]), "payload is a map"],
    [new Uint8Array(MAX_TOKEN_BYTES + 1), "exceeds"],
  ];
  for (const [bytes, why] of cases) {
    const e = assertThrows(() => decodeToken(bytes), MalformedTokenError, why, why);
    assertEquals((e as MalformedTokenError).code, "E_UCAN_MALFORMED");
  }
  assertEquals(Delegation.decode(rawToken(alice, p, "ucan/dlg@1.0.0-rc.1")).iss, alice.did, "rc.1 tags are read");
});

Deno.test("ucan token: every payload field is type-checked", () => {
  const [alice, bob] = signers(2);
  const secp = "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme";
  const cases: [Record<string, unknown>, string, typeof MalformedTokenError | typeof InvalidPolicyError][] = [
    [{ aud: undefined }, "has no aud", MalformedTokenError],
    [{ exp: undefined }, "has no exp", MalformedTokenError],
    [{ nonce: undefined }, "has no nonce", MalformedTokenError],
    [{ pol: undefined }, "has no pol", MalformedTokenError],
    [{ sub: undefined }, "has no sub", MalformedTokenError],
    [{ extra: 1 }, "unknown field", MalformedTokenError],
    [{ aud: secp }, "aud is not an Ed25519 did:key", MalformedTokenError],
    [{ aud: "did:web:example.com" }, "aud is not an Ed25519 did:key", MalformedTokenError],
    [{ aud: 7 }, "aud is not a string", MalformedTokenError],
    [{ sub: "did:key:z6Mk" }, "sub is not an Ed25519 did:key", MalformedTokenError],
    [{ cmd: 1 }, "cmd is not a string", MalformedTokenError],
    [{ cmd: "/A" }, "lowercase", InvalidCommandError],
    [{ pol: {} }, "list of statements", InvalidPolicyError],
    [{ pol: [["==", "x", 1]] }, "starts with .", InvalidPolicyError],
    [{ nonce: "abc" }, "nonce is not bytes", MalformedTokenError],
    [{ exp: "soon" }, "exp is not a time", MalformedTokenError],
    [{ exp: 1.5 }, "exp is not a time", MalformedTokenError],
    [{ exp: -5 }, "exp is not a time", MalformedTokenError],
    [{ exp: 2n ** 60n }, "exp is not a time", MalformedTokenError],
    [{ nbf: null }, "nbf is not a time", MalformedTokenError],
    [{ nbf: NOW + 10, exp: NOW }, "after exp", MalformedTokenError],
    [{ meta: "x" }, "meta is not a map", MalformedTokenError],
  ];
  for (const [overrides, why, ErrorType] of cases) {
    const p = dlgPayload(alice, bob, overrides);
    for (const k of Object.keys(p)) if (p[k] === undefined) delete p[k];
    assertThrows(() => Delegation.decode(rawToken(alice, p)), ErrorType, why, why);
  }
  const iss = dlgPayload(alice, bob, { iss: secp });
  assertThrows(() => Delegation.decode(rawToken(alice, iss)), MalformedTokenError, "iss is not an Ed25519 did:key");
});

Deno.test("ucan token: invocation fields are type-checked", () => {
  const [alice] = signers(1);
  const d = delegate(alice, { aud: alice.did, sub: alice.did, cmd: "/", exp: null });
  const base = { iss: alice.did, sub: alice.did, cmd: "/x", args: {}, prf: [], nonce: new Uint8Array(4), exp: null };
  const cases: [Record<string, unknown>, string][] = [
    [{ args: [] }, "args is not a map"],
    [{ prf: {} }, "prf is not a list"],
    [{ prf: ["bafy"] }, "prf[0] is not the CID"],
    [{ prf: [CID.parse("bafkqaaa")] }, "prf[0] is not the CID"],
    [{ prf: Array(65).fill(d.cid) }, "more than 64"],
    [{ sub: null }, "sub is not a string"],
    [{ iat: "now" }, "iat is not a time"],
    [{ cause: "x" }, "cause is not the CID"],
    [{ pol: [] }, "unknown field"],
  ];
  for (const [overrides, why] of cases) {
    const bytes = rawToken(alice, { ...base, ...overrides }, "ucan/inv@1.0.0");
    assertThrows(() => Invocation.decode(bytes), MalformedTokenError, why, why);
  }
  assertEquals(Invocation.decode(rawToken(alice, base, "ucan/inv@1.0.0-rc.1")).cmd, "/x");
});

Deno.test("ucan token: decoding copies the bytes (later changes to the input do not reach the token)", () => {
  const [alice] = signers(1);
  const d = delegate(alice, { aud: alice.did, sub: alice.did, cmd: "/", exp: null });
  const input = Uint8Array.from(d.bytes);
  const back = Delegation.decode(input);
  input.fill(0);
  assertEquals(back.bytes, d.bytes);
});

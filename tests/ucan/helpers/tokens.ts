/** Principals and hand-built envelopes for the UCAN tests. */
import * as dagCbor from "npm:@ipld/dag-cbor@10.0.2";
import { KeyPair } from "../../../src/identity/ed25519.ts";
import { signerFromKeyPair, type UcanSigner, VARSIG_ED25519_DAG_CBOR } from "../../../src/ucan/mod.ts";

/** `n` fresh signers. */
export function signers(n: number): UcanSigner[] {
  return Array.from({ length: n }, () => signerFromKeyPair(KeyPair.generate()));
}

/** A fixed "now" for tests (seconds), well inside 32-bit range. */
export const NOW = 1_800_000_000;

/** CBOR text string header + UTF-8 bytes (short strings only). */
export function cborText(text: string): Uint8Array {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length >= 24) return Uint8Array.of(0x78, bytes.length, ...bytes);
  return Uint8Array.of(0x60 + bytes.length, ...bytes);
}

/** Concatenate byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** An envelope around `signedBytes` (the signed map's bytes, as given), signed by `signer`. */
export function envelopeOf(signer: UcanSigner, signedBytes: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(0x82, 0x58, 0x40), signer.sign(signedBytes), signedBytes);
}

/** A correctly signed, canonical token of `tag` with `payload` (any fields, valid or not). */
export function rawToken(
  signer: UcanSigner,
  payload: Record<string, unknown>,
  tag = "ucan/dlg@1.0.0",
  header: Uint8Array = VARSIG_ED25519_DAG_CBOR,
): Uint8Array {
  return envelopeOf(signer, dagCbor.encode({ h: header, [tag]: payload }));
}

/** A delegation payload from `iss` to `aud`, with `overrides`. */
export function dlgPayload(
  iss: UcanSigner,
  aud: UcanSigner,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    iss: iss.did,
    aud: aud.did,
    sub: iss.did,
    cmd: "/macula",
    pol: [],
    nonce: new Uint8Array(12),
    exp: null,
    ...overrides,
  };
}

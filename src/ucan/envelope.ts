/**
 * The UCAN 1.0 envelope: DAG-CBOR `[signature, {"h": varsig header,
 * "<tag>": payload}]`, where the tag names the token type and version
 * (`ucan/dlg@1.0.0`, `ucan/inv@1.0.0`) and the Ed25519 signature covers the
 * DAG-CBOR encoding of the `{h, tag: payload}` map. Decoding is strict: the
 * bytes must be exactly the canonical DAG-CBOR encoding of what they decode
 * to, the header must be Ed25519 + DAG-CBOR, and the signature is checked
 * over the received bytes. The CID of a token is CIDv1, codec dag-cbor,
 * sha2-256 of the whole envelope.
 *
 * @module
 */
import * as dagCbor from "npm:@ipld/dag-cbor@10.0.2";
import { CID } from "npm:multiformats@14.0.5/cid";
import * as Digest from "npm:multiformats@14.0.5/hashes/digest";
import { sha256 } from "../crypto/mod.ts";
import { SIGNATURE_LENGTH, verify } from "../identity/ed25519.ts";
import { principalKey, type UcanSigner } from "./did-key.ts";
import { guardDecode, InvalidSignatureError, MalformedTokenError } from "./errors.ts";
import { isMap } from "./ipld.ts";

/** Largest token accepted, in bytes. */
export const MAX_TOKEN_BYTES = 64 * 1024;

/** The varsig header of Ed25519 signatures over DAG-CBOR: `34 01 ed01 ed01 13 71`. */
export const VARSIG_ED25519_DAG_CBOR: Uint8Array = Uint8Array.of(0x34, 0x01, 0xed, 0x01, 0xed, 0x01, 0x13, 0x71);

/** The multicodec of DAG-CBOR. */
export const DAG_CBOR_CODE = 0x71;
/** The multicodec of sha2-256. */
export const SHA2_256_CODE = 0x12;

/** The token types: delegation and invocation. */
export type TokenKind = "dlg" | "inv";

/** The tag this library writes for each token type. */
export const TOKEN_TAGS: Readonly<Record<TokenKind, string>> = {
  dlg: "ucan/dlg@1.0.0",
  inv: "ucan/inv@1.0.0",
};

/** Every tag accepted on decode, with its token type. */
export const ACCEPTED_TAGS: ReadonlyMap<string, TokenKind> = new Map([
  ["ucan/dlg@1.0.0", "dlg"],
  ["ucan/dlg@1.0.0-rc.1", "dlg"],
  ["ucan/inv@1.0.0", "inv"],
  ["ucan/inv@1.0.0-rc.1", "inv"],
]);

/** A decoded, signature-checked envelope. */
export interface Envelope {
  /** Delegation or invocation. */
  readonly kind: TokenKind;
  /** The payload tag as received. */
  readonly tag: string;
  /** The issuer (`payload.iss`), whose key verified the signature. */
  readonly iss: string;
  /** The payload map, not yet validated beyond `iss`. */
  readonly payload: Record<string, unknown>;
}

/** Bytes of the envelope before the signed map: array(2), bytes(64) header, 64 signature bytes. */
const SIGNED_OFFSET = 3 + SIGNATURE_LENGTH;

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The CID of token `bytes`: CIDv1, dag-cbor, sha2-256. */
export function tokenCid(bytes: Uint8Array): CID {
  return CID.createV1(DAG_CBOR_CODE, Digest.create(SHA2_256_CODE, sha256(bytes)));
}

/**
 * Decode and check an envelope: canonical DAG-CBOR, the expected shape,
 * an Ed25519 + DAG-CBOR varsig header, a known tag, an Ed25519 `did:key`
 * issuer and a valid signature. Throws `MalformedTokenError` or
 * `InvalidSignatureError`.
 */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  return guardDecode(() => decodeChecked(bytes));
}

function decodeChecked(bytes: Uint8Array): Envelope {
  if (!(bytes instanceof Uint8Array)) throw new MalformedTokenError("a token is bytes");
  if (bytes.length > MAX_TOKEN_BYTES) {
    throw new MalformedTokenError(`token of ${bytes.length} bytes exceeds the ${MAX_TOKEN_BYTES}-byte limit`);
  }
  let decoded: unknown;
  try {
    decoded = dagCbor.decode(bytes);
  } catch (e) {
    throw new MalformedTokenError(`token is not DAG-CBOR: ${(e as Error)?.message ?? e}`, { cause: e });
  }
  if (!Array.isArray(decoded) || decoded.length !== 2) {
    throw new MalformedTokenError("a token is a DAG-CBOR list of a signature and a signed map");
  }
  const [signature, signed] = decoded;
  if (!(signature instanceof Uint8Array)) throw new MalformedTokenError("a token's signature is bytes");
  if (!isMap(signed)) throw new MalformedTokenError("a token's signed part is a map");
  const keys = Object.keys(signed);
  if (keys.length !== 2 || !Object.hasOwn(signed, "h")) {
    throw new MalformedTokenError("a token's signed map holds exactly the header h and one payload tag");
  }
  const header = signed.h;
  if (!(header instanceof Uint8Array) || !equalBytes(header, VARSIG_ED25519_DAG_CBOR)) {
    throw new MalformedTokenError("unsupported varsig header: only Ed25519 over DAG-CBOR (34 01 ed01 ed01 13 71)");
  }
  const tag = keys[0] === "h" ? keys[1] : keys[0];
  const kind = ACCEPTED_TAGS.get(tag);
  if (!kind) throw new MalformedTokenError(`unknown token type ${JSON.stringify(tag.slice(0, 60))}`);
  const payload = signed[tag];
  if (!isMap(payload)) throw new MalformedTokenError("a token's payload is a map");
  let canonical: Uint8Array;
  try {
    canonical = dagCbor.encode(decoded);
  } catch (e) {
    throw new MalformedTokenError("token holds values outside DAG-CBOR", { cause: e });
  }
  if (!equalBytes(canonical, bytes)) throw new MalformedTokenError("token is not canonical DAG-CBOR");
  const iss = payload.iss;
  if (typeof iss !== "string") throw new MalformedTokenError("iss is missing or not a string");
  let why = "";
  const key = principalKey(iss, (reason) => why = reason);
  if (!key) throw new MalformedTokenError(`iss is not an Ed25519 did:key: ${why}`);
  if (signature.length !== SIGNATURE_LENGTH || !verify(key, bytes.subarray(SIGNED_OFFSET), signature)) {
    throw new InvalidSignatureError(`signature does not verify against the issuer ${iss}`);
  }
  return { kind, tag, iss, payload };
}

/**
 * Sign `payload` as `signer` and encode the envelope with the current tag of
 * `kind`. The payload must be DAG-CBOR encodable (no `undefined`).
 */
export function encodeEnvelope(signer: UcanSigner, kind: TokenKind, payload: Record<string, unknown>): Uint8Array {
  const signed = { h: VARSIG_ED25519_DAG_CBOR, [TOKEN_TAGS[kind]]: payload };
  let signedBytes: Uint8Array;
  try {
    signedBytes = dagCbor.encode(signed);
  } catch (e) {
    throw new MalformedTokenError(`token fields hold values outside DAG-CBOR: ${(e as Error)?.message ?? e}`, {
      cause: e,
    });
  }
  const signature = signer.sign(signedBytes);
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_LENGTH) {
    throw new InvalidSignatureError(`signer returned a signature that is not ${SIGNATURE_LENGTH} bytes`);
  }
  const bytes = new Uint8Array(SIGNED_OFFSET + signedBytes.length);
  bytes.set([0x82, 0x58, SIGNATURE_LENGTH]);
  bytes.set(signature, 3);
  bytes.set(signedBytes, SIGNED_OFFSET);
  if (bytes.length > MAX_TOKEN_BYTES) {
    throw new MalformedTokenError(`token of ${bytes.length} bytes would exceed the ${MAX_TOKEN_BYTES}-byte limit`);
  }
  return bytes;
}

/** Decode bytes this library just encoded (known canonical): the payload map. */
export function decodeOwnPayload(bytes: Uint8Array): Record<string, unknown> {
  const [, signed] = dagCbor.decode(bytes) as [Uint8Array, Record<string, unknown>];
  const tag = Object.keys(signed).find((k) => k !== "h")!;
  return signed[tag] as Record<string, unknown>;
}

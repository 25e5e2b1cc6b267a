/**
 * UCAN 1.0 invocations: `iss` asks to run `cmd` with `args` on subject
 * `sub`, proving its authority with the delegations `prf` (CIDs, root
 * first).
 *
 * @module
 */
import type { CID } from "npm:multiformats@14.0.5/cid";
import { randomBytes } from "../crypto/mod.ts";
import { validateCommand } from "./command.ts";
import type { UcanSigner } from "./did-key.ts";
import { DEFAULT_NONCE_BYTES } from "./delegation.ts";
import { decodeEnvelope, encodeEnvelope, type Envelope, tokenCid } from "./envelope.ts";
import { guardDecode, MalformedTokenError } from "./errors.ts";
import { checkKeys, defined, expiry, nonce, optionalMap, optionalTime, principal, time, tokenLink } from "./fields.ts";
import { deepFreeze } from "./ipld.ts";

/** Most proofs an invocation may name. */
export const MAX_PROOFS = 64;

/** What `invoke` puts in an invocation (the issuer is the signer). */
export interface InvocationFields {
  /** The subject whose authority is exercised. */
  sub: string;
  /** The command to run. */
  cmd: string;
  /** Its arguments (what delegation policies are evaluated on). */
  args: Record<string, unknown>;
  /** The CIDs of the proof delegations, root first (empty when `sub` is the signer). */
  prf: readonly CID[];
  /** The executor, if it is not the subject. */
  aud?: string;
  /** Expiry (seconds); default `null` (none). */
  exp?: number | null;
  /** Issued at (seconds). */
  iat?: number;
  /** Default: `DEFAULT_NONCE_BYTES` random bytes. */
  nonce?: Uint8Array;
  /** Signed metadata. */
  meta?: Record<string, unknown>;
  /** The receipt that caused this invocation. */
  cause?: CID;
}

const REQUIRED = ["iss", "sub", "cmd", "args", "prf", "nonce", "exp"];
const OPTIONAL = ["aud", "iat", "meta", "cause"];

interface InvocationParts {
  bytes: Uint8Array;
  iss: string;
  sub: string;
  aud?: string;
  cmd: string;
  args: Record<string, unknown>;
  prf: readonly CID[];
  nonce: Uint8Array;
  exp: number | null;
  iat?: number;
  meta?: Record<string, unknown>;
  cause?: CID;
}

function parsePayload(bytes: Uint8Array, payload: Record<string, unknown>): InvocationParts {
  checkKeys(payload, REQUIRED, OPTIONAL, "invocation");
  const cmd = payload.cmd;
  if (typeof cmd !== "string") throw new MalformedTokenError("cmd is not a string");
  validateCommand(cmd);
  const args = optionalMap(payload.args, "args")!;
  if (!Array.isArray(payload.prf)) throw new MalformedTokenError("prf is not a list");
  if (payload.prf.length > MAX_PROOFS) throw new MalformedTokenError(`prf names more than ${MAX_PROOFS} proofs`);
  const prf = Object.freeze(payload.prf.map((p, i) => tokenLink(p, `prf[${i}]`)));
  const meta = optionalMap(payload.meta, "meta");
  const parts: InvocationParts = {
    bytes,
    iss: principal(payload.iss, "iss"),
    sub: principal(payload.sub, "sub"),
    cmd,
    args: deepFreeze(args),
    prf,
    nonce: nonce(payload.nonce),
    exp: expiry(payload.exp),
  };
  if (payload.aud !== undefined) parts.aud = principal(payload.aud, "aud");
  const iat = optionalTime(payload.iat, "iat");
  if (iat !== undefined) parts.iat = iat;
  if (meta !== undefined) parts.meta = deepFreeze(meta);
  if (payload.cause !== undefined) parts.cause = tokenLink(payload.cause, "cause");
  return parts;
}

/**
 * A decoded, signature-checked UCAN invocation. Build one with `invoke`
 * or `Invocation.decode`.
 *
 * @example
 * ```ts
 * import { KeyPair } from "../identity/ed25519.ts";
 * import { invoke, Invocation, signerFromKeyPair } from "./mod.ts";
 * const alice = signerFromKeyPair(KeyPair.generate());
 * const inv = invoke(alice, { sub: alice.did, cmd: "/msg/send", args: { to: "bob" }, prf: [] });
 * Invocation.decode(inv.bytes).args; // { to: "bob" }
 * ```
 */
export class Invocation {
  /** The token's bytes (the DAG-CBOR envelope). */
  readonly bytes: Uint8Array;
  /**
   * CIDv1 (dag-cbor, sha2-256) of `bytes` (a `multiformats` CID; `id` is
   * its text form).
   *
   * @ignore
   */
  readonly cid: CID;
  /** `cid` as text (base32, `bafy…`). */
  readonly id: string;
  /** The invoker (signer). */
  readonly iss: string;
  /** The subject. */
  readonly sub: string;
  /** The executor, if given. */
  readonly aud?: string;
  /** The command. */
  readonly cmd: string;
  /** The arguments (frozen). */
  readonly args: Readonly<Record<string, unknown>>;
  /**
   * The proofs' CIDs, root first (`multiformats` CIDs).
   *
   * @ignore
   */
  readonly prf: readonly CID[];
  /** The nonce. */
  readonly nonce: Uint8Array;
  /** Expiry (seconds), or `null`. */
  readonly exp: number | null;
  /** Issued at (seconds), if given. */
  readonly iat?: number;
  /** Signed metadata (frozen), if given. */
  readonly meta?: Record<string, unknown>;
  /**
   * The receipt that caused it, if given (a `multiformats` CID).
   *
   * @ignore
   */
  readonly cause?: CID;

  private constructor(parts: InvocationParts) {
    this.bytes = parts.bytes;
    this.cid = tokenCid(parts.bytes);
    this.id = this.cid.toString();
    this.iss = parts.iss;
    this.sub = parts.sub;
    if (parts.aud !== undefined) this.aud = parts.aud;
    this.cmd = parts.cmd;
    this.args = parts.args;
    this.prf = parts.prf;
    this.nonce = parts.nonce;
    this.exp = parts.exp;
    if (parts.iat !== undefined) this.iat = parts.iat;
    if (parts.meta !== undefined) this.meta = parts.meta;
    if (parts.cause !== undefined) this.cause = parts.cause;
  }

  /**
   * Decode invocation `bytes`, strictly, and verify its signature. Throws a
   * `UcanError` (`MalformedTokenError`, `InvalidSignatureError`,
   * `InvalidCommandError`).
   */
  static decode(bytes: Uint8Array): Invocation {
    return invocationFromEnvelope(bytes, decodeEnvelope(bytes));
  }
}

/** The invocation of a decoded, signature-checked `envelope` of kind `inv`. */
export function invocationFromEnvelope(bytes: Uint8Array, envelope: Envelope): Invocation {
  if (envelope.kind !== "inv") throw new MalformedTokenError("token is a delegation, not an invocation");
  const build = Invocation as unknown as new (parts: InvocationParts) => Invocation;
  return guardDecode(() => new build(parsePayload(Uint8Array.from(bytes), envelope.payload)));
}

/**
 * Issue an invocation signed by `signer` (its `did` is the issuer).
 * Throws `MalformedTokenError` or `InvalidCommandError` for invalid fields.
 *
 * @example
 * ```ts
 * import { KeyPair } from "../identity/ed25519.ts";
 * import { delegate, invoke, signerFromKeyPair } from "./mod.ts";
 * const alice = signerFromKeyPair(KeyPair.generate());
 * const bob = signerFromKeyPair(KeyPair.generate());
 * const d = delegate(alice, { aud: bob.did, sub: alice.did, cmd: "/msg", exp: null });
 * const inv = invoke(bob, { sub: alice.did, cmd: "/msg/send", args: {}, prf: [d.cid] });
 * inv.prf[0].equals(d.cid); // true
 * ```
 */
export function invoke(signer: UcanSigner, fields: InvocationFields): Invocation {
  validateCommand(fields.cmd);
  const payload = defined({
    iss: principal(signer.did, "iss"),
    sub: principal(fields.sub, "sub"),
    aud: fields.aud === undefined ? undefined : principal(fields.aud, "aud"),
    cmd: fields.cmd,
    args: optionalMap(fields.args, "args") ?? {},
    prf: fields.prf.map((p, i) => tokenLink(p, `prf[${i}]`)),
    nonce: nonce(fields.nonce ?? randomBytes(DEFAULT_NONCE_BYTES)),
    exp: fields.exp === undefined ? null : expiry(fields.exp),
    iat: fields.iat === undefined ? undefined : time(fields.iat, "iat"),
    meta: optionalMap(fields.meta, "meta"),
    cause: fields.cause === undefined ? undefined : tokenLink(fields.cause, "cause"),
  });
  return Invocation.decode(encodeEnvelope(signer, "inv", payload));
}

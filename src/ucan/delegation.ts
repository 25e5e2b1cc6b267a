/**
 * UCAN 1.0 delegations: `iss` grants `aud` the authority to run `cmd` (and
 * every command below it) on subject `sub`, for arguments satisfying `pol`,
 * between `nbf` and `exp`.
 *
 * @module
 */
import type { CID } from "npm:multiformats@14.0.5/cid";
import { randomBytes } from "../crypto/mod.ts";
import { validateCommand } from "./command.ts";
import type { UcanSigner } from "./did-key.ts";
import { decodeEnvelope, encodeEnvelope, type Envelope, tokenCid } from "./envelope.ts";
import { guardDecode, MalformedTokenError } from "./errors.ts";
import { checkKeys, defined, expiry, nonce, optionalMap, optionalTime, principal } from "./fields.ts";
import { deepFreeze } from "./ipld.ts";
import { type Policy, validatePolicy } from "./policy.ts";

/** Bytes of the random nonce `delegate` and `invoke` draw when none is given. */
export const DEFAULT_NONCE_BYTES = 12;

/** What `delegate` puts in a delegation (the issuer is the signer). */
export interface DelegationFields {
  /** Who receives the authority (an Ed25519 `did:key`). */
  aud: string;
  /** The subject the chain is about; `null` (a "powerline") is never accepted at a chain's root. */
  sub: string | null;
  /** The command delegated, with everything below it. */
  cmd: string;
  /** Conditions on the invocation arguments; default `[]` (none). */
  pol?: Policy;
  /** Expiry, seconds since the epoch; default `null` (no expiry), though one is normally given. */
  exp?: number | null;
  /** Not valid before this time, seconds since the epoch. */
  nbf?: number;
  /** Default: `DEFAULT_NONCE_BYTES` random bytes. */
  nonce?: Uint8Array;
  /** Signed metadata; grants nothing. */
  meta?: Record<string, unknown>;
}

const REQUIRED = ["iss", "aud", "sub", "cmd", "pol", "nonce", "exp"];
const OPTIONAL = ["nbf", "meta"];

interface DelegationParts {
  bytes: Uint8Array;
  iss: string;
  aud: string;
  sub: string | null;
  cmd: string;
  pol: Policy;
  nonce: Uint8Array;
  exp: number | null;
  nbf?: number;
  meta?: Record<string, unknown>;
}

/** Validate a delegation payload (everything but the signature, already checked). */
function parsePayload(bytes: Uint8Array, payload: Record<string, unknown>): DelegationParts {
  checkKeys(payload, REQUIRED, OPTIONAL, "delegation");
  const cmd = payload.cmd;
  if (typeof cmd !== "string") throw new MalformedTokenError("cmd is not a string");
  validateCommand(cmd);
  const exp = expiry(payload.exp);
  const nbf = optionalTime(payload.nbf, "nbf");
  if (exp !== null && nbf !== undefined && nbf > exp) throw new MalformedTokenError(`nbf ${nbf} is after exp ${exp}`);
  const meta = optionalMap(payload.meta, "meta");
  return {
    bytes,
    iss: principal(payload.iss, "iss"),
    aud: principal(payload.aud, "aud"),
    sub: payload.sub === null ? null : principal(payload.sub, "sub"),
    cmd,
    pol: validatePolicy(payload.pol),
    nonce: nonce(payload.nonce),
    exp,
    ...(nbf === undefined ? {} : { nbf }),
    ...(meta === undefined ? {} : { meta: deepFreeze(meta) }),
  };
}

/**
 * A decoded, signature-checked UCAN delegation. Build one with `delegate`
 * or `Delegation.decode`.
 *
 * @example
 * ```ts
 * import { KeyPair } from "../identity/ed25519.ts";
 * import { delegate, Delegation, signerFromKeyPair } from "./mod.ts";
 * const alice = signerFromKeyPair(KeyPair.generate());
 * const bob = signerFromKeyPair(KeyPair.generate());
 * const d = delegate(alice, { aud: bob.did, sub: alice.did, cmd: "/macula/pubsub", exp: 2_000_000_000 });
 * Delegation.decode(d.bytes).id === d.id; // true
 * ```
 */
export class Delegation {
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
  /** The issuer (signer). */
  readonly iss: string;
  /** The audience (receiver). */
  readonly aud: string;
  /** The subject, or `null` (powerline). */
  readonly sub: string | null;
  /** The command delegated. */
  readonly cmd: string;
  /** The policy on the arguments (frozen). */
  readonly pol: Policy;
  /** The nonce. */
  readonly nonce: Uint8Array;
  /** Expiry (seconds), or `null` for none. */
  readonly exp: number | null;
  /** Not before (seconds), if set. */
  readonly nbf?: number;
  /** Signed metadata (frozen), if set. */
  readonly meta?: Record<string, unknown>;

  private constructor(parts: DelegationParts) {
    this.bytes = parts.bytes;
    this.cid = tokenCid(parts.bytes);
    this.id = this.cid.toString();
    this.iss = parts.iss;
    this.aud = parts.aud;
    this.sub = parts.sub;
    this.cmd = parts.cmd;
    this.pol = parts.pol;
    this.nonce = parts.nonce;
    this.exp = parts.exp;
    if (parts.nbf !== undefined) this.nbf = parts.nbf;
    if (parts.meta !== undefined) this.meta = parts.meta;
  }

  /**
   * Decode delegation `bytes`, strictly, and verify its signature. Throws a
   * `UcanError`: `MalformedTokenError` (not a well-formed delegation),
   * `InvalidSignatureError`, `InvalidCommandError` or `InvalidPolicyError`.
   */
  static decode(bytes: Uint8Array): Delegation {
    return delegationFromEnvelope(bytes, decodeEnvelope(bytes));
  }
}

/**
 * The delegation of a decoded, signature-checked `envelope` of kind `dlg`
 * (for `decodeToken`, which decodes the envelope before knowing its kind).
 */
export function delegationFromEnvelope(bytes: Uint8Array, envelope: Envelope): Delegation {
  if (envelope.kind !== "dlg") throw new MalformedTokenError("token is an invocation, not a delegation");
  const build = Delegation as unknown as new (parts: DelegationParts) => Delegation;
  return guardDecode(() => new build(parsePayload(Uint8Array.from(bytes), envelope.payload)));
}

/**
 * Issue a delegation signed by `signer` (its `did` is the issuer).
 * Throws `MalformedTokenError`, `InvalidCommandError` or
 * `InvalidPolicyError` for invalid fields.
 *
 * @example
 * ```ts
 * import { KeyPair } from "../identity/ed25519.ts";
 * import { delegate, signerFromKeyPair } from "./mod.ts";
 * const authority = signerFromKeyPair(KeyPair.generate());
 * const owner = signerFromKeyPair(KeyPair.generate());
 * const d = delegate(authority, {
 *   aud: owner.did,
 *   sub: authority.did,
 *   cmd: "/macula",
 *   pol: [["like", ".name", "io.acme.*"]],
 *   exp: Math.floor(Date.now() / 1000) + 3600,
 * });
 * d.iss === authority.did; // true
 * ```
 */
export function delegate(signer: UcanSigner, fields: DelegationFields): Delegation {
  validateCommand(fields.cmd);
  const payload = defined({
    iss: principal(signer.did, "iss"),
    aud: principal(fields.aud, "aud"),
    sub: fields.sub === null ? null : principal(fields.sub, "sub"),
    cmd: fields.cmd,
    pol: fields.pol ?? [],
    nonce: nonce(fields.nonce ?? randomBytes(DEFAULT_NONCE_BYTES)),
    exp: fields.exp === undefined ? null : expiry(fields.exp),
    nbf: optionalTime(fields.nbf, "nbf"),
    meta: optionalMap(fields.meta, "meta"),
  });
  return Delegation.decode(encodeEnvelope(signer, "dlg", payload));
}

/**
 * Revocations: an invocation of `/ucan/revoke` with arguments
 * `{ ucan: <CID> }`, issued by the revoker about itself (`sub` = `iss`, no
 * proofs). It takes effect where the revoker issued the revoked delegation
 * or a link above it in a chain (see `ChainOptions.isRevoked`).
 *
 * @module
 */
import { CID } from "npm:multiformats@14.0.5/cid";
import type { UcanSigner } from "./did-key.ts";
import { InvalidRevocationError, MalformedTokenError } from "./errors.ts";
import { type Invocation, invoke } from "./invocation.ts";
import { DAG_CBOR_CODE, SHA2_256_CODE } from "./envelope.ts";
import { asCid } from "./ipld.ts";

/** The command of revocations. */
export const REVOKE_COMMAND = "/ucan/revoke";

function tokenCidOf(value: unknown): CID {
  let cid: CID | undefined;
  if (typeof value === "string") {
    try {
      cid = CID.parse(value);
    } catch {
      throw new InvalidRevocationError(`not a CID: ${JSON.stringify(value.slice(0, 80))}`);
    }
  } else {
    cid = asCid(value);
  }
  if (!cid || cid.version !== 1 || cid.code !== DAG_CBOR_CODE || cid.multihash.code !== SHA2_256_CODE) {
    throw new InvalidRevocationError("a revocation names the CID of a token (CIDv1, dag-cbor, sha2-256)");
  }
  return cid;
}

/**
 * A revocation of the delegation `cid`, signed by `signer`.
 *
 * @example
 * ```ts
 * import { KeyPair } from "../identity/ed25519.ts";
 * import { delegate, readRevocation, revoke, signerFromKeyPair } from "./mod.ts";
 * const alice = signerFromKeyPair(KeyPair.generate());
 * const d = delegate(alice, { aud: alice.did, sub: alice.did, cmd: "/", exp: null });
 * readRevocation(revoke(alice, d.cid)); // { revoker: alice.did, cid: d.id }
 * ```
 */
export function revoke(signer: UcanSigner, cid: CID | string): Invocation {
  const link = tokenCidOf(cid);
  try {
    return invoke(signer, { sub: signer.did, cmd: REVOKE_COMMAND, args: { ucan: link }, prf: [] });
  } catch (e) {
    if (e instanceof MalformedTokenError) throw new InvalidRevocationError(e.message);
    throw e;
  }
}

/**
 * The revoker and the revoked CID (text) of revocation `inv`, or throw
 * `InvalidRevocationError` if it is not one: command `/ucan/revoke`,
 * `sub` equal to `iss`, arguments exactly `{ ucan: <token CID> }`.
 */
export function readRevocation(inv: Invocation): { revoker: string; cid: string } {
  if (inv.cmd !== REVOKE_COMMAND) {
    throw new InvalidRevocationError(`not a revocation: command ${inv.cmd}, not ${REVOKE_COMMAND}`);
  }
  if (inv.sub !== inv.iss) throw new InvalidRevocationError("a revocation is issued by its subject (sub = iss)");
  const keys = Object.keys(inv.args);
  if (keys.length !== 1 || keys[0] !== "ucan") {
    throw new InvalidRevocationError("a revocation's arguments are exactly { ucan: <CID> }");
  }
  return { revoker: inv.iss, cid: tokenCidOf(asCid(inv.args.ucan) ?? null).toString() };
}

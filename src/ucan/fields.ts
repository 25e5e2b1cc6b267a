/**
 * Checks of payload fields shared by delegations and invocations. Each
 * throws `MalformedTokenError` naming the field.
 *
 * @module
 */
import type { CID } from "npm:multiformats@14.0.5/cid";
import { principalKey } from "./did-key.ts";
import { MalformedTokenError } from "./errors.ts";
import { asCid, isMap } from "./ipld.ts";
import { DAG_CBOR_CODE, SHA2_256_CODE } from "./envelope.ts";

/** Largest time accepted (seconds since the epoch): 2^53 − 1. */
const MAX_TIME = Number.MAX_SAFE_INTEGER;

/** Throw unless `payload` has every key of `required` and no key outside `required` and `optional`. */
export function checkKeys(
  payload: Record<string, unknown>,
  required: readonly string[],
  optional: readonly string[],
  what: string,
): void {
  for (const key of required) {
    if (!Object.hasOwn(payload, key)) throw new MalformedTokenError(`${what} has no ${key}`);
  }
  for (const key of Object.keys(payload)) {
    if (!required.includes(key) && !optional.includes(key)) {
      throw new MalformedTokenError(`${what} has an unknown field ${JSON.stringify(key.slice(0, 40))}`);
    }
  }
}

/** `value` as an Ed25519 `did:key` principal. */
export function principal(value: unknown, field: string): string {
  if (typeof value !== "string") throw new MalformedTokenError(`${field} is not a string`);
  let why = "";
  if (!principalKey(value, (reason) => why = reason)) {
    throw new MalformedTokenError(`${field} is not an Ed25519 did:key: ${why}`);
  }
  return value;
}

/** `value` as a time in seconds (a non-negative integer). */
export function time(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0 || value > MAX_TIME) {
    throw new MalformedTokenError(`${field} is not a time in seconds (a non-negative integer)`);
  }
  return value;
}

/** `value` as an optional time: `undefined` stays `undefined`. */
export function optionalTime(value: unknown, field: string): number | undefined {
  return value === undefined ? undefined : time(value, field);
}

/** `value` as `exp`: a time or `null`. */
export function expiry(value: unknown): number | null {
  return value === null ? null : time(value, "exp");
}

/** `value` as a nonce: bytes. */
export function nonce(value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new MalformedTokenError("nonce is not bytes");
  return value;
}

/** `value` as an optional map (`meta`, `args`). */
export function optionalMap(value: unknown, field: string): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (!isMap(value)) throw new MalformedTokenError(`${field} is not a map`);
  return value;
}

/** `value` as the CID of a token: CIDv1, dag-cbor, sha2-256. */
export function tokenLink(value: unknown, field: string): CID {
  const cid = asCid(value);
  if (!cid || cid.version !== 1 || cid.code !== DAG_CBOR_CODE || cid.multihash.code !== SHA2_256_CODE) {
    throw new MalformedTokenError(`${field} is not the CID of a token (CIDv1, dag-cbor, sha2-256)`);
  }
  return cid;
}

/** Payload `fields` without the keys whose value is `undefined` (DAG-CBOR has no undefined). */
export function defined(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) out[key] = value;
  return out;
}

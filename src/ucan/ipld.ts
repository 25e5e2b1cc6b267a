/**
 * The IPLD data model as this library sees decoded DAG-CBOR values: `null`,
 * booleans, numbers (and `bigint` beyond 2^53), strings, bytes
 * (`Uint8Array`), links (`CID`), lists (arrays) and maps (plain objects).
 * Helpers to classify, compare and freeze such values.
 *
 * @module
 */
import { CID } from "npm:multiformats@14.0.5/cid";

/** Whether `value` is an IPLD map: a plain object (not an array, bytes or a CID). */
export function isMap(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The CID `value` is, or `undefined`. */
export function asCid(value: unknown): CID | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value) || value instanceof Uint8Array) {
    return undefined;
  }
  return CID.asCID(value) ?? undefined;
}

function isNumeric(value: unknown): value is number | bigint {
  return typeof value === "number" || typeof value === "bigint";
}

/**
 * Deep equality of two IPLD values: numbers compare by value whatever their
 * representation (`1 == 1.0 == 1n`), bytes by content, CIDs by their bytes,
 * lists element-wise, maps by their sets of keys and values.
 *
 * @example
 * ```ts
 * import { ipldEquals } from "./ipld.ts";
 * ipldEquals({ a: [1, 2] }, { a: [1, 2.0] }); // true
 * ipldEquals([1], { 0: 1 }); // false
 * ```
 */
export function ipldEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isNumeric(a) && isNumeric(b)) return a == b;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!ipldEquals(a[i], b[i])) return false;
    return true;
  }
  if (a instanceof Uint8Array) {
    if (!(b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (isMap(a)) {
    if (!isMap(b)) return false;
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    for (const key of keys) {
      if (!Object.hasOwn(b, key) || !ipldEquals(a[key], b[key])) return false;
    }
    return true;
  }
  const ca = asCid(a);
  const cb = asCid(b);
  return ca !== undefined && cb !== undefined && ca.equals(cb);
}

/**
 * Freeze `value` and everything it holds (lists and maps; bytes cannot be
 * frozen and are left as they are). Returns `value`.
 */
export function deepFreeze<T>(value: T): T {
  if (Array.isArray(value)) {
    for (const item of value) deepFreeze(item);
    Object.freeze(value);
  } else if (isMap(value)) {
    for (const key of Object.keys(value)) deepFreeze(value[key]);
    Object.freeze(value);
  }
  return value;
}

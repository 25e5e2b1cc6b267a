/**
 * The DHT keyspace: 256-bit ids. A node's DHT id is SHA-256 of its public
 * key; record keys are namespaced by realm: SHA-256 over
 * `("macula-dht/1", realm, kind, name)` (CBOR-encoded, so no two tuples
 * collide). Distance is XOR.
 *
 * @module
 */
import { randomBytes, sha256 as sha256Digest } from "../crypto/mod.ts";
import type { NodeId } from "../identity/node-id.ts";
import { encodeCbor } from "../wire/cbor.ts";

/** Bytes in a DHT id or key. */
export const KEY_BYTES = 32;
/** Bits in a DHT id or key (and buckets in a routing table). */
export const KEY_BITS = 256;

/** SHA-256. */
export function sha256(data: Uint8Array): Uint8Array {
  return sha256Digest(data);
}

const dhtIds = new WeakMap<NodeId, Uint8Array>();

/** The DHT id of a node: SHA-256 of its public key (memoised per `NodeId`). */
export function dhtId(id: NodeId): Uint8Array {
  let key = dhtIds.get(id);
  if (!key) dhtIds.set(id, key = sha256(id.bytes));
  return key;
}

/**
 * The leading 48 bits of the XOR distance as a number: enough to order ids
 * by distance almost always (ties fall back to `compareDistance`).
 */
export function distancePrefix(target: Uint8Array, key: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < 6; i++) n = n * 256 + (target[i] ^ key[i]);
  return n;
}

/** Sort `items` by the distance of `keyOf(item)` to `target`, closest first. */
export function sortByDistance<T>(target: Uint8Array, items: T[], keyOf: (item: T) => Uint8Array): T[] {
  const decorated = items.map((item) => ({ item, key: keyOf(item), d: distancePrefix(target, keyOf(item)) }));
  decorated.sort((a, b) => a.d - b.d || compareDistance(target, a.key, b.key));
  return decorated.map((x) => x.item);
}

/**
 * The namespace of a record key: `rpc` an RPC procedure (its providers),
 * `sub` the subscribers of a topic root (a pattern's first segment, or
 * `*`), `value` a value record, `node` a node, `content` the providers of
 * one piece of content (by its MCID), `raw` an application's own keys.
 */
export type KeyKind = "node" | "rpc" | "sub" | "value" | "raw" | "content";

/**
 * The key of `name` of kind `kind` in `realm`.
 *
 * @example
 * ```ts
 * import { realmKey } from "./keys.ts";
 * const key = realmKey("io.example.app", "rpc", "math.add"); // 32 bytes
 * ```
 */
export function realmKey(realm: string, kind: KeyKind, name: string): Uint8Array {
  return sha256(encodeCbor(["macula-dht/1", realm, kind, name]));
}

/** XOR distance of two ids. */
export function distance(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(KEY_BYTES);
  for (let i = 0; i < KEY_BYTES; i++) out[i] = a[i] ^ b[i];
  return out;
}

/** Is `a` closer to `target` than `b`? Negative: a closer; 0: equal; positive: b closer. */
export function compareDistance(target: Uint8Array, a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < KEY_BYTES; i++) {
    const da = a[i] ^ target[i];
    const db = b[i] ^ target[i];
    if (da !== db) return da - db;
  }
  return 0;
}

/** Number of leading bits `a` and `b` share (256 when equal): the bucket index of `b` seen from `a`. */
export function commonPrefixLength(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < KEY_BYTES; i++) {
    const x = a[i] ^ b[i];
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return KEY_BITS;
}

/** A random id sharing exactly `prefix` leading bits with `self` (falls in bucket `prefix`). */
export function randomIdInBucket(self: Uint8Array, prefix: number): Uint8Array {
  const out = randomBytes(KEY_BYTES);
  for (let bit = 0; bit <= prefix && bit < KEY_BITS; bit++) {
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    const want = bit < prefix ? self[byte] & mask : (~self[byte]) & mask;
    out[byte] = (out[byte] & ~mask) | want;
  }
  return out;
}

/**
 * DHT records. Every record is signed by the node it is about, and verified
 * before it is stored or used.
 *
 * - Provider record: "node P provides `key` in `realm`" (RPC procedures,
 *   topic subscriptions), with P's signed node record (addresses) and up to
 *   1 KiB of data (e.g. the subscription patterns).
 * - Value record: a small signed value (≤ 4 KiB) that only its publisher can
 *   write: its key is derived from the publisher's id and a name; a higher
 *   `seq` replaces a lower one.
 *
 * @module
 */
import { type DomainSigner, verifyDomain } from "../identity/domain-signature.ts";
import { type NodeId, nodeIdFromWire } from "../identity/node-id.ts";
import { decodeNodeRecord, encodeNodeRecord, type NodeRecord } from "../identity/node-record.ts";
import { equals } from "../util/bytes.ts";
import { encodeCbor } from "../wire/cbor.ts";
import { WireError } from "../wire/errors.ts";
import { any, bytes, messageDecoder, object, str, uint } from "../wire/schema.ts";
import { KEY_BYTES, realmKey } from "./keys.ts";

/** Signature domain of provider records. */
export const PROVIDER_DOMAIN = "dht/provider";
/** Signature domain of value records. */
export const VALUE_DOMAIN = "dht/value";

/** Largest encoded `data` of a provider record. */
export const MAX_PROVIDER_DATA = 1024;
/** Largest value of a value record. */
export const MAX_VALUE = 4096;

/** A verified provider record. */
export interface ProviderRecord {
  /** The 32-byte DHT key provided (e.g. from `realmKey`). */
  key: Uint8Array;
  /** The realm the record belongs to. */
  realm: string;
  /** The provider's signed node record (its id and addresses). */
  provider: NodeRecord;
  /** Small data announced with it (at most 1 KiB encoded), e.g. subscription patterns. */
  data?: unknown;
  /** Expiry, ms since epoch. */
  expires: number;
  /** The provider's Ed25519 signature (domain `dht/provider`), 64 bytes. */
  sig: Uint8Array;
}

/** A verified value record. */
export interface ValueRecord {
  /** The realm the record belongs to. */
  realm: string;
  /** The node that wrote it (only it can). */
  publisher: NodeId;
  /** The name it is stored under, per publisher. */
  name: string;
  /** The value, at most 4 KiB. */
  value: Uint8Array;
  /** Sequence number; a higher one replaces a lower one. */
  seq: number;
  /** Expiry, ms since epoch. */
  expires: number;
  /** The publisher's Ed25519 signature (domain `dht/value`), 64 bytes. */
  sig: Uint8Array;
}

function providerSigned(key: Uint8Array, realm: string, id: NodeId, data: unknown, expires: number): Uint8Array {
  return encodeCbor([
    "macula-provider/1",
    key,
    realm,
    id.bytes,
    data === undefined || data === null ? null : encodeCbor(data),
    expires,
  ]);
}

/**
 * Create a provider record for this node.
 *
 * @example
 * ```ts
 * import { createProviderRecord } from "./records.ts";
 * import { realmKey } from "./keys.ts";
 * declare const signer: import("../identity/domain-signature.ts").DomainSigner;
 * declare const record: import("../identity/node-record.ts").NodeRecord;
 * createProviderRecord(signer, record, "default", realmKey("default", "rpc", "math.add"), 3_600_000);
 * ```
 */
export function createProviderRecord(
  signer: DomainSigner,
  provider: NodeRecord,
  realm: string,
  key: Uint8Array,
  ttl: number,
  data?: unknown,
): ProviderRecord {
  if (data !== undefined && encodeCbor(data).length > MAX_PROVIDER_DATA) {
    throw new RangeError(`provider data exceeds ${MAX_PROVIDER_DATA} bytes`);
  }
  const expires = Date.now() + ttl;
  const sig = signer.sign(PROVIDER_DOMAIN, providerSigned(key, realm, provider.id, data, expires));
  return { key, realm, provider, data, expires, sig };
}

/** Wire form of a provider record. */
export function encodeProviderRecord(r: ProviderRecord): Uint8Array {
  return encodeCbor({ k: r.key, r: r.realm, n: encodeNodeRecord(r.provider), d: r.data, x: r.expires, s: r.sig });
}

const decodeProviderShape = messageDecoder(
  "provider record",
  object({
    k: bytes({ length: KEY_BYTES }),
    r: str({ max: 64, min: 1 }),
    n: bytes({ max: 8192 }),
    d: any(),
    x: uint(),
    s: bytes({ length: 64 }),
  }),
);

/** Decode and verify a provider record (both signatures). Throws `WireError`. */
export function decodeProviderRecord(input: Uint8Array): ProviderRecord {
  const raw = decodeProviderShape(input);
  const provider = decodeNodeRecord(raw.n);
  if (raw.d !== undefined && encodeCbor(raw.d).length > MAX_PROVIDER_DATA) {
    throw new WireError("E_WIRE_OVERSIZED", "provider record", `data exceeds ${MAX_PROVIDER_DATA} bytes`);
  }
  if (
    !verifyDomain(provider.id.bytes, PROVIDER_DOMAIN, providerSigned(raw.k, raw.r, provider.id, raw.d, raw.x), raw.s)
  ) {
    throw new WireError("E_WIRE_INVALID", "provider record", "signature does not verify");
  }
  return { key: raw.k, realm: raw.r, provider, data: raw.d, expires: raw.x, sig: raw.s };
}

/** The key of `name` published by `publisher` in `realm`. */
export function valueKey(realm: string, publisher: NodeId, name: string): Uint8Array {
  return realmKey(realm, "value", `${publisher.did}/${name}`);
}

function valueSigned(r: Omit<ValueRecord, "sig">): Uint8Array {
  return encodeCbor(["macula-value/1", r.realm, r.publisher.bytes, r.name, r.value, r.seq, r.expires]);
}

/** Create a signed value record. */
export function createValueRecord(
  signer: DomainSigner,
  realm: string,
  name: string,
  value: Uint8Array,
  seq: number,
  ttl: number,
): ValueRecord {
  if (value.length > MAX_VALUE) throw new RangeError(`value exceeds ${MAX_VALUE} bytes`);
  const unsigned = { realm, publisher: signer.id, name, value, seq, expires: Date.now() + ttl };
  return { ...unsigned, sig: signer.sign(VALUE_DOMAIN, valueSigned(unsigned)) };
}

/** Wire form of a value record. */
export function encodeValueRecord(r: ValueRecord): Uint8Array {
  return encodeCbor({ r: r.realm, p: r.publisher.bytes, n: r.name, v: r.value, q: r.seq, x: r.expires, s: r.sig });
}

const decodeValueShape = messageDecoder(
  "value record",
  object({
    r: str({ max: 64, min: 1 }),
    p: bytes({ length: 32 }),
    n: str({ max: 200, min: 1 }),
    v: bytes({ max: MAX_VALUE }),
    q: uint(),
    x: uint(),
    s: bytes({ length: 64 }),
  }),
);

/** Decode and verify a value record. Throws `WireError`. */
export function decodeValueRecord(input: Uint8Array): ValueRecord {
  const raw = decodeValueShape(input);
  const record = {
    realm: raw.r,
    publisher: nodeIdFromWire(raw.p, "value record"),
    name: raw.n,
    value: raw.v,
    seq: raw.q,
    expires: raw.x,
    sig: raw.s,
  };
  if (!verifyDomain(raw.p, VALUE_DOMAIN, valueSigned(record), raw.s)) {
    throw new WireError("E_WIRE_INVALID", "value record", "signature does not verify");
  }
  return record;
}

/** Does `record` belong under `key`? */
export function valueMatchesKey(record: ValueRecord, key: Uint8Array): boolean {
  return equals(valueKey(record.realm, record.publisher, record.name), key);
}

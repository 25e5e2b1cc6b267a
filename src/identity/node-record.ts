/**
 * Signed node records: `{ id, addrs, realms, roles, seq, expires, sig }`.
 * The same record travels in identify, gossip, DHT and relay messages;
 * `seq` orders updates from one node, `expires` bounds how long others
 * keep it.
 *
 * @module
 */
import { toHex } from "../util/bytes.ts";
import { encodeCbor } from "../wire/cbor.ts";
import { WireError } from "../wire/errors.ts";
import { array, bytes, messageDecoder, object, str, uint } from "../wire/schema.ts";
import type { KeyPair } from "./ed25519.ts";
import { verify } from "./ed25519.ts";
import { NodeId, nodeIdFromWire } from "./node-id.ts";

const DOMAIN = "macula-node-record/1";

/** Limits on record contents. */
export const RECORD_LIMITS = { addrs: 16, realms: 16, roles: 16, text: 200 } as const;

/** A verified node record. */
export interface NodeRecord {
  /** The node's id; the record is signed by it. */
  id: NodeId;
  /** Listen addresses without the id suffix, e.g. `quic://10.0.0.5:9443`. */
  addrs: string[];
  /** Realms the node runs in, the primary first. */
  realms: string[];
  /** Free-form roles (e.g. `relay`). */
  roles: string[];
  /** Ordering number; higher replaces lower. */
  seq: number;
  /** Expiry time, ms since epoch. */
  expires: number;
  /** Ed25519 signature by `id` over the other fields. */
  sig: Uint8Array;
}

/** Fields a node signs into its record. */
export interface NodeRecordInit {
  /** Listen addresses without the id suffix. */
  addrs: string[];
  /** Realms, the primary first. */
  realms: string[];
  /** Free-form roles. */
  roles?: string[];
  /** Defaults to the current time in ms. */
  seq?: number;
  /** Time to live, ms. Default one hour. */
  ttl?: number;
}

function signedBytes(r: Omit<NodeRecord, "sig">): Uint8Array {
  return encodeCbor([DOMAIN, r.id.bytes, r.addrs, r.realms, r.roles, r.seq, r.expires]);
}

/**
 * Create and sign a record.
 *
 * @example
 * ```ts
 * import { KeyPair } from "./ed25519.ts";
 * import { createNodeRecord, decodeNodeRecord, encodeNodeRecord } from "./node-record.ts";
 * const kp = KeyPair.generate();
 * const rec = createNodeRecord(kp, { addrs: ["quic://127.0.0.1:9443"], realms: ["default"] });
 * decodeNodeRecord(encodeNodeRecord(rec)).id.equals(rec.id); // true
 * ```
 */
export function createNodeRecord(keyPair: KeyPair, init: NodeRecordInit): NodeRecord {
  const seq = init.seq ?? Date.now();
  const unsigned = {
    id: new NodeId(keyPair.publicKey),
    addrs: [...init.addrs].slice(0, RECORD_LIMITS.addrs),
    realms: [...init.realms],
    roles: [...(init.roles ?? [])],
    seq,
    expires: seq + (init.ttl ?? 3_600_000),
  };
  return { ...unsigned, sig: keyPair.sign(signedBytes(unsigned)) };
}

/** CBOR form of a record. */
export function encodeNodeRecord(record: NodeRecord): Uint8Array {
  return encodeCbor({
    id: record.id.bytes,
    addrs: record.addrs,
    realms: record.realms,
    roles: record.roles,
    seq: record.seq,
    exp: record.expires,
    sig: record.sig,
  });
}

const text = str({ max: RECORD_LIMITS.text, min: 1 });
const decodeShape = messageDecoder(
  "node record",
  object({
    id: bytes({ length: 32 }),
    addrs: array(text, { max: RECORD_LIMITS.addrs }),
    realms: array(text, { max: RECORD_LIMITS.realms }),
    roles: array(text, { max: RECORD_LIMITS.roles }),
    seq: uint(),
    exp: uint(),
    sig: bytes({ length: 64 }),
  }),
);

// Records travel again and again (identify, every DHT reply); verifying a
// signature costs far more than recognising bytes we already verified.
const verified = new Map<string, NodeRecord>();
const VERIFIED_MAX = 8192;

/**
 * Decode and verify a record. Throws `WireError` for bad shape or a bad
 * signature. Expiry is not checked here; see `isExpired`.
 */
export function decodeNodeRecord(input: Uint8Array): NodeRecord {
  const cacheKey = toHex(input);
  const cached = verified.get(cacheKey);
  if (cached) return cached;
  const record = decodeAndVerify(input);
  if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value!);
  verified.set(cacheKey, record);
  return record;
}

function decodeAndVerify(input: Uint8Array): NodeRecord {
  const raw = decodeShape(input);
  const record: NodeRecord = {
    id: nodeIdFromWire(raw.id, "node record"),
    addrs: raw.addrs,
    realms: raw.realms,
    roles: raw.roles,
    seq: raw.seq,
    expires: raw.exp,
    sig: raw.sig,
  };
  if (!verify(raw.id, signedBytes(record), raw.sig)) {
    throw new WireError("E_WIRE_INVALID", "node record", "signature does not verify");
  }
  return record;
}

/** Has the record expired at `now`? */
export function isExpired(record: NodeRecord, now: number = Date.now()): boolean {
  return record.expires <= now;
}

/**
 * The `/macula/state/1` wire messages and their one validating decoder.
 *
 * A stream carries CBOR frames: `sync` (a state's version vector: "send me
 * what I lack") answered by a `delta` (the writes the asker lacks plus the
 * answerer's vector), or a pushed `delta` without a vector (gossip).
 *
 * @module
 */
import { decodeCbor, encodeCbor } from "../wire/cbor.ts";
import { StateError } from "./errors.ts";
import { checkKey, checkValue, type Entry, type VersionVector } from "./replica.ts";

/** The protocol id. */
export const STATE_PROTOCOL = "/macula/state/1";
/** Largest frame, bytes. */
export const MAX_STATE_FRAME = 4 * 1024 * 1024;
/** Most writes in one delta. */
export const MAX_ENTRIES = 65_536;
/** Most writers in one version vector. */
export const MAX_WRITERS = 4096;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const ORIGIN = /^[0-9a-f]{64}$/;

/** Throw `StateError` (`E_STATE_NAME`) unless `name` is a valid state name (or realm). */
export function checkName(name: unknown, what = "state name"): asserts name is string {
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new StateError("E_STATE_NAME", `a ${what} is 1 to 128 of A-Z a-z 0-9 . _ - (not starting with . _ -)`);
  }
}

/** "Send me what I lack." */
export interface SyncMessage {
  /** Kind. */
  t: "sync";
  /** Realm. */
  realm: string;
  /** State name. */
  name: string;
  /** The asker's version vector. */
  vector: VersionVector;
}

/** Writes, with the sender's vector when they are everything the receiver lacked. */
export interface DeltaMessage {
  /** Kind. */
  t: "delta";
  /** Realm. */
  realm: string;
  /** State name. */
  name: string;
  /** The writes. */
  entries: Entry[];
  /** The sender's version vector (only in answers to `sync`). */
  vector?: VersionVector;
}

/** A `/macula/state/1` message. */
export type StateMessage = SyncMessage | DeltaMessage;

/**
 * Encode a message.
 *
 * @example
 * ```ts
 * import { decodeStateMessage, encodeStateMessage } from "./messages.ts";
 * const bytes = encodeStateMessage({ t: "sync", realm: "plant", name: "flags", vector: new Map() });
 * decodeStateMessage(bytes).t; // "sync"
 * ```
 */
export function encodeStateMessage(m: StateMessage): Uint8Array {
  const base = { t: m.t, r: m.realm, n: m.name };
  if (m.t === "sync") return encodeCbor({ ...base, v: [...m.vector] });
  const e = m.entries.map((x) => [x.key, x.stamp.t, x.stamp.c, x.stamp.o, x.seq, x.deleted ? 1 : 0, x.value ?? null]);
  return encodeCbor(m.vector ? { ...base, e, v: [...m.vector] } : { ...base, e });
}

function bad(why: string): never {
  throw new StateError("E_STATE_MESSAGE", `malformed state message: ${why}`);
}

function uint(x: unknown, max: number, what: string): number {
  if (typeof x !== "number" || !Number.isSafeInteger(x) || x < 0 || x > max) {
    bad(`${what} is not an integer in 0..${max}`);
  }
  return x;
}

function origin(x: unknown): string {
  if (typeof x !== "string" || !ORIGIN.test(x)) bad("a writer is not a 64-digit lowercase hex id");
  return x;
}

function vector(x: unknown): Map<string, number> {
  if (!Array.isArray(x) || x.length > MAX_WRITERS) bad(`the vector is not a list of at most ${MAX_WRITERS} pairs`);
  const out = new Map<string, number>();
  for (const pair of x) {
    if (!Array.isArray(pair) || pair.length !== 2) bad("a vector item is not a [writer, seq] pair");
    out.set(origin(pair[0]), uint(pair[1], Number.MAX_SAFE_INTEGER, "a sequence number"));
  }
  return out;
}

function entry(x: unknown): Entry {
  if (!Array.isArray(x) || x.length !== 7) bad("a write is not a 7-item list");
  const [key, t, c, o, seq, del, value] = x;
  try {
    checkKey(key);
  } catch (error) {
    bad((error as Error).message);
  }
  if (del !== 0 && del !== 1) bad("a write's deleted flag is not 0 or 1");
  const stamp = { t: uint(t, Number.MAX_SAFE_INTEGER, "a stamp"), c: uint(c, 0xffffffff, "a counter"), o: origin(o) };
  const s = uint(seq, Number.MAX_SAFE_INTEGER, "a sequence number");
  if (s === 0) bad("a sequence number is 0");
  if (del === 1) {
    if (value !== null) bad("a tombstone carries a value");
    return { key, value: undefined, deleted: true, stamp, seq: s };
  }
  try {
    checkValue(value);
  } catch (error) {
    bad((error as Error).message);
  }
  return { key, value, deleted: false, stamp, seq: s };
}

/**
 * Decode and validate one message. Throws `StateError` (`E_STATE_MESSAGE`)
 * for anything malformed, oversized or of an unknown kind.
 *
 * @example
 * ```ts
 * import { decodeStateMessage } from "./messages.ts";
 * try {
 *   decodeStateMessage(new Uint8Array([0xff]));
 * } catch (e) {
 *   console.log((e as { code: string }).code); // "E_STATE_MESSAGE"
 * }
 * ```
 */
export function decodeStateMessage(bytes: Uint8Array): StateMessage {
  if (bytes.length > MAX_STATE_FRAME) bad(`${bytes.length} bytes exceed ${MAX_STATE_FRAME}`);
  let raw: unknown;
  try {
    raw = decodeCbor(bytes, STATE_PROTOCOL);
  } catch (error) {
    bad((error as Error).message);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) bad("not a map");
  const m = raw as Record<string, unknown>;
  const realm = m.r, name = m.n;
  try {
    checkName(realm, "realm");
    checkName(name);
  } catch (error) {
    bad((error as Error).message);
  }
  if (m.t === "sync") {
    if (Object.keys(m).length !== 4) bad("unexpected fields in a sync");
    return { t: "sync", realm, name, vector: vector(m.v) };
  }
  if (m.t !== "delta") bad("unknown kind");
  if (!Array.isArray(m.e) || m.e.length > MAX_ENTRIES) bad(`the writes are not a list of at most ${MAX_ENTRIES}`);
  const entries = m.e.map(entry);
  if (m.v === undefined) {
    if (Object.keys(m).length !== 4) bad("unexpected fields in a delta");
    return { t: "delta", realm, name, entries };
  }
  if (Object.keys(m).length !== 5) bad("unexpected fields in a delta");
  return { t: "delta", realm, name, entries, vector: vector(m.v) };
}

/**
 * Message frames of `/macula/pubsub/1` as bytes, built and taken apart
 * without a generic encoder on the hot path and without depending on any
 * encoder's key order:
 *
 * - `MessageEncoder` writes the map `{ t, r, o, e, s, tp, d }` itself, in that
 *   order: the header and key strings are written here, the per-realm values
 *   (`t`, `r`, `o`, `e`) and topics are encoded once and reused, and only the
 *   payload goes through the CBOR encoder per message.
 * - `scanMessage` (`message-scan.ts`) finds the pairs of a received frame without decoding its
 *   payload, so a forwarder can pass the bytes on with its own forward list
 *   (`f`), and check the origin signature over the received value bytes.
 *
 * Either way the result is an `EncodedMessage`: the frame's pairs except `f`,
 * from which every frame to send (`frame(forward)`) and the bytes the origin
 * signs (`signedBytes()`) are spliced.
 *
 * @module
 */
import { encodeCbor } from "../wire/cbor.ts";

/** The fields of a message frame (see `messages.ts`). */
export interface MessageFields {
  /** Realm. */
  r: string;
  /** Origin node id (32 bytes). */
  o: Uint8Array;
  /** Publisher epoch. */
  e: number;
  /** Sequence number. */
  s: number;
  /** Topic. */
  tp: string;
  /** Payload (any CBOR value). */
  d: unknown;
}

/** Where the values of a freshly encoded message are (offsets, so no views are made unless asked for). */
interface Offsets {
  prefix: RealmPrefix;
  sAt: number;
  tpAt: number;
  dAt: number;
}

/** The encoded values a signature covers (views; `d` absent when the frame has none). */
export interface SignedValues {
  r: Uint8Array;
  o: Uint8Array;
  e: Uint8Array;
  s: Uint8Array;
  tp: Uint8Array;
  d?: Uint8Array;
}

/** CBOR major types used here. */
export const TYPE_MAP = 5;
export const TYPE_ARRAY = 4;
export const TYPE_BYTES = 2;
const CBOR_NULL = 0xf6;
const CBOR_UNDEFINED = 0xf7;
const SIGNED_TAG = encodeCbor("macula-pubsub-msg/1");
/** Encoded keys (CBOR text strings), and `"t": "msg"`. */
const T_MSG = Uint8Array.of(0x61, 0x74, 0x63, 0x6d, 0x73, 0x67);
const KEY_R = Uint8Array.of(0x61, 0x72);
const KEY_O = Uint8Array.of(0x61, 0x6f);
const KEY_E = Uint8Array.of(0x61, 0x65);
const KEY_S = Uint8Array.of(0x61, 0x73);
const KEY_TP = Uint8Array.of(0x62, 0x74, 0x70);
const KEY_D = Uint8Array.of(0x61, 0x64);
const KEY_F = Uint8Array.of(0x61, 0x66);
const KEY_G = Uint8Array.of(0x61, 0x67);

/** The size of a CBOR head announcing `n`. */
function headSize(n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
}

/** Write the CBOR head of major type `type` with argument `n` (< 2^32) at `at`; returns the next offset. */
function putHead(out: Uint8Array, at: number, type: number, n: number): number {
  const t = type << 5;
  if (n < 24) {
    out[at] = t | n;
    return at + 1;
  }
  if (n < 0x100) {
    out[at] = t | 24;
    out[at + 1] = n;
    return at + 2;
  }
  if (n < 0x10000) {
    out[at] = t | 25;
    out[at + 1] = n >>> 8;
    out[at + 2] = n & 0xff;
    return at + 3;
  }
  out[at] = t | 26;
  out[at + 1] = n >>> 24;
  out[at + 2] = (n >>> 16) & 0xff;
  out[at + 3] = (n >>> 8) & 0xff;
  out[at + 4] = n & 0xff;
  return at + 5;
}

/** Whether `n` is written here (the shortest form below 2^32) rather than by the CBOR encoder. */
function smallUint(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
}

/** An unsigned integer as CBOR (the shortest form below 2^32; the CBOR encoder's form above). */
function encodeUint(n: number): Uint8Array {
  if (!smallUint(n)) return encodeCbor(n);
  const out = new Uint8Array(headSize(n));
  putHead(out, 0, 0, n);
  return out;
}

/** `parts` in one array. */
export function concat(parts: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * One message frame's pairs except the forward list, ready to be framed for
 * any number of receivers.
 *
 * @example
 * ```ts
 * import { MessageEncoder } from "./message-codec.ts";
 * const encoder = new MessageEncoder();
 * const message = encoder.encode({ r: "default", o: new Uint8Array(32), e: 1, s: 1, tp: "a.b", d: { x: 1 } });
 * const direct = message.frame(); // the bytes of { t, r, o, e, s, tp, d }
 * const signed = message.signedBytes(); // what the origin signs
 * ```
 */
export class EncodedMessage {
  /** `#buf[#start, #end)` holds the pairs; when `#ownHeader`, `#buf[#start - 1]` is their map header. */
  readonly #buf: Uint8Array;
  readonly #start: number;
  readonly #end: number;
  readonly #pairs: number;
  readonly #ownHeader: boolean;
  #values: SignedValues | Offsets;

  /** @internal Made by `MessageEncoder` and `scanMessage`. */
  constructor(
    buf: Uint8Array,
    start: number,
    end: number,
    pairs: number,
    ownHeader: boolean,
    values: SignedValues | Offsets,
  ) {
    this.#buf = buf;
    this.#start = start;
    this.#end = end;
    this.#pairs = pairs;
    this.#ownHeader = ownHeader;
    this.#values = values;
  }

  /** Bytes of the frame without a forward list. */
  get size(): number {
    return headSize(this.#pairs) + this.#end - this.#start;
  }

  /** The frame to send: these pairs, then `f` listing `forward` (node ids) if given. */
  frame(forward?: readonly Uint8Array[]): Uint8Array {
    if (!forward && this.#ownHeader) return this.#buf.subarray(this.#start - 1, this.#end);
    const pairs = this.#pairs + (forward ? 1 : 0);
    let size = headSize(pairs) + this.#end - this.#start;
    if (forward) {
      size += KEY_F.length + headSize(forward.length);
      for (const id of forward) size += headSize(id.length) + id.length;
    }
    const out = new Uint8Array(size);
    let at = putHead(out, 0, TYPE_MAP, pairs);
    out.set(this.#buf.subarray(this.#start, this.#end), at);
    at += this.#end - this.#start;
    if (forward) {
      out.set(KEY_F, at);
      at = putHead(out, at + KEY_F.length, TYPE_ARRAY, forward.length);
      for (const id of forward) {
        at = putHead(out, at, TYPE_BYTES, id.length);
        out.set(id, at);
        at += id.length;
      }
    }
    return out;
  }

  /**
   * The bytes the origin signs: the CBOR array `["macula-pubsub-msg/1", r, o,
   * e, s, tp, d]` (a missing or undefined payload as `null`), spliced from
   * the encoded values — equal to `messageSignedBytes` of the same fields.
   */
  signedBytes(): Uint8Array {
    const { r, o, e, s, tp, d } = this.#signedValues();
    const payload = !d || (d.length === 1 && d[0] === CBOR_UNDEFINED) ? Uint8Array.of(CBOR_NULL) : d;
    return concat([Uint8Array.of((TYPE_ARRAY << 5) | 7), SIGNED_TAG, r, o, e, s, tp, payload]);
  }

  /** The same message with the origin signature `g` appended. */
  withSignature(signature: Uint8Array): EncodedMessage {
    const body = this.#end - this.#start;
    const pairs = this.#pairs + 1;
    const out = new Uint8Array(headSize(pairs) + body + KEY_G.length + headSize(signature.length) + signature.length);
    let at = putHead(out, 0, TYPE_MAP, pairs);
    const start = at;
    out.set(this.#buf.subarray(this.#start, this.#end), at);
    at += body;
    out.set(KEY_G, at);
    at = putHead(out, at + KEY_G.length, TYPE_BYTES, signature.length);
    out.set(signature, at);
    return new EncodedMessage(out, start, out.length, pairs, start === 1, this.#signedValues());
  }

  #signedValues(): SignedValues {
    const v = this.#values;
    if (!("prefix" in v)) return v;
    const b = this.#buf;
    const values = {
      ...v.prefix.values,
      s: b.subarray(v.sAt, v.tpAt - KEY_TP.length),
      tp: b.subarray(v.tpAt, v.dAt - KEY_D.length),
      d: b.subarray(v.dAt, this.#end),
    };
    this.#values = values;
    return values;
  }
}

interface RealmPrefix {
  /** Pairs `t`, `r`, `o`, `e`. */
  bytes: Uint8Array;
  origin: Uint8Array;
  epoch: number;
  values: Pick<SignedValues, "r" | "o" | "e">;
}

/**
 * Encodes message frames; caches what repeats (per realm: type, realm,
 * origin, epoch; per topic: the topic string).
 */
export class MessageEncoder {
  readonly #prefixes = new Map<string, RealmPrefix>();
  readonly #topics = new Map<string, Uint8Array>();

  #prefix(m: MessageFields): RealmPrefix {
    const cached = this.#prefixes.get(m.r);
    if (cached && cached.origin === m.o && cached.epoch === m.e) return cached;
    const r = encodeCbor(m.r);
    const o = encodeCbor(m.o);
    const e = encodeUint(m.e);
    const bytes = concat([T_MSG, KEY_R, r, KEY_O, o, KEY_E, e]);
    const rAt = T_MSG.length + KEY_R.length;
    const oAt = rAt + r.length + KEY_O.length;
    const values = { r: bytes.subarray(rAt, rAt + r.length), o: bytes.subarray(oAt, oAt + o.length), e };
    const prefix: RealmPrefix = { bytes, origin: m.o, epoch: m.e, values };
    if (this.#prefixes.size >= 64) this.#prefixes.clear();
    this.#prefixes.set(m.r, prefix);
    return prefix;
  }

  #topic(topic: string): Uint8Array {
    let bytes = this.#topics.get(topic);
    if (!bytes) {
      bytes = encodeCbor(topic);
      if (this.#topics.size >= 4096) this.#topics.clear();
      this.#topics.set(topic, bytes);
    }
    return bytes;
  }

  /** Encode the pairs `t, r, o, e, s, tp, d` of a message. */
  encode(m: MessageFields): EncodedMessage {
    const prefix = this.#prefix(m);
    const big = smallUint(m.s) ? null : encodeCbor(m.s);
    const tp = this.#topic(m.tp);
    const d = encodeCbor(m.d);
    const sAt = 1 + prefix.bytes.length + KEY_S.length;
    const tpAt = sAt + (big ? big.length : headSize(m.s)) + KEY_TP.length;
    const dAt = tpAt + tp.length + KEY_D.length;
    const out = new Uint8Array(dAt + d.length);
    out[0] = (TYPE_MAP << 5) | 7;
    out.set(prefix.bytes, 1);
    // Keys "s", "tp", "d" byte by byte: cheaper than a set() each.
    out[sAt - 2] = KEY_S[0];
    out[sAt - 1] = KEY_S[1];
    if (big) out.set(big, sAt);
    else putHead(out, sAt, 0, m.s);
    out[tpAt - 3] = KEY_TP[0];
    out[tpAt - 2] = KEY_TP[1];
    out[tpAt - 1] = KEY_TP[2];
    out.set(tp, tpAt);
    out[dAt - 2] = KEY_D[0];
    out[dAt - 1] = KEY_D[1];
    out.set(d, dAt);
    return new EncodedMessage(out, 1, out.length, 7, true, { prefix, sAt, tpAt, dAt });
  }
}

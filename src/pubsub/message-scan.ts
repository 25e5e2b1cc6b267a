/**
 * Taking a received pub/sub message frame apart without decoding its
 * values (see `message-codec.ts`): the CBOR structure is walked, the
 * message's pairs are located, and the result is an `EncodedMessage` that
 * forwards the received bytes and checks signatures over them.
 *
 * @module
 */
import { WireError } from "../wire/errors.ts";
import { concat, EncodedMessage, type SignedValues, TYPE_ARRAY, TYPE_BYTES, TYPE_MAP } from "./message-codec.ts";

const KNOWN_KEYS = ["t", "r", "o", "e", "s", "tp", "d", "g", "f"] as const;
type Key = typeof KNOWN_KEYS[number];
const KEY_BY_TEXT = new Map<string, Key>(KNOWN_KEYS.map((k) => [k, k]));

const MAX_DEPTH = 64;

function malformed(detail: string): WireError {
  return new WireError("E_WIRE_MALFORMED", "pubsub frame", detail);
}

/** The argument of the CBOR head at `at` and where the head ends. */
function readHead(b: Uint8Array, at: number): { n: number; next: number } {
  const info = b[at] & 31;
  const p = at + 1;
  if (info < 24) return { n: info, next: p };
  if (info > 27) throw malformed(`reserved additional information ${info}`);
  if (p + (1 << (info - 24)) > b.length) throw malformed("truncated head");
  if (info === 24) return { n: b[p], next: p + 1 };
  if (info === 25) return { n: (b[p] << 8) | b[p + 1], next: p + 2 };
  const u32 = (q: number) => ((b[q] << 24) | (b[q + 1] << 16) | (b[q + 2] << 8) | b[q + 3]) >>> 0;
  if (info === 26) return { n: u32(p), next: p + 4 };
  return { n: u32(p) * 2 ** 32 + u32(p + 4), next: p + 8 };
}

/** Where the CBOR item at `at` ends; walks its structure without decoding anything. */
function skipItem(b: Uint8Array, at: number, depth: number): number {
  if (depth > MAX_DEPTH) throw malformed("nested too deeply");
  if (at >= b.length) throw malformed("truncated item");
  const type = b[at] >> 5;
  if ((b[at] & 31) === 31) {
    if (type < 2 || type === 6 || type === 7) throw malformed("unexpected indefinite length or break");
    let p = at + 1;
    for (;;) {
      if (p >= b.length) throw malformed("truncated indefinite item");
      if (b[p] === 0xff) return p + 1;
      p = skipItem(b, p, depth + 1);
      if (type === TYPE_MAP) p = skipItem(b, p, depth + 1);
    }
  }
  const { n, next } = readHead(b, at);
  let p = next;
  if (type === TYPE_BYTES || type === 3) p += n;
  else if (type === TYPE_ARRAY) { for (let i = 0; i < n; i++) p = skipItem(b, p, depth + 1); }
  else if (type === TYPE_MAP) { for (let i = 0; i < 2 * n; i++) p = skipItem(b, p, depth + 1); }
  else if (type === 6) p = skipItem(b, p, depth + 1);
  if (p > b.length) throw malformed("truncated item");
  return p;
}

/** The known key of a text string at `at`, if it is one. */
function keyAt(b: Uint8Array, at: number): Key | undefined {
  const initial = b[at];
  if (initial === 0x61) return KEY_BY_TEXT.get(String.fromCharCode(b[at + 1]));
  if (initial === 0x62) return KEY_BY_TEXT.get(String.fromCharCode(b[at + 1], b[at + 2]));
  return undefined;
}

interface Pair {
  key: Key;
  start: number;
  value: number;
  end: number;
}

/**
 * Take a received message frame apart without decoding its values: the
 * pairs other than `f` (and unknown keys), and the encoded values a
 * signature covers. `null` when the frame is not a map of the message's
 * keys, each once (then re-encode it from its decoded form); throws
 * `WireError` on malformed CBOR.
 *
 * @example
 * ```ts
 * import { MessageEncoder } from "./message-codec.ts";
 * import { scanMessage } from "./message-scan.ts";
 * const sent = new MessageEncoder().encode({ r: "default", o: new Uint8Array(32), e: 1, s: 2, tp: "a", d: [1] });
 * const received = scanMessage(sent.frame([new Uint8Array(32)]))!;
 * received.frame(); // the same bytes as sent.frame()
 * ```
 */
export function scanMessage(bytes: Uint8Array): EncodedMessage | null {
  if (bytes.length === 0 || bytes[0] >> 5 !== TYPE_MAP || (bytes[0] & 31) === 31) return null;
  const { n: count, next } = readHead(bytes, 0);
  const pairs = new Map<Key, Pair>();
  let p = next;
  for (let i = 0; i < count; i++) {
    const start = p;
    const key = p < bytes.length ? keyAt(bytes, p) : undefined;
    const value = skipItem(bytes, p, 1);
    p = skipItem(bytes, value, 1);
    if (!key) continue;
    if (pairs.has(key)) return null;
    pairs.set(key, { key, start, value, end: p });
  }
  if (p !== bytes.length) throw malformed("trailing bytes");
  const view = (key: Key) => {
    const pair = pairs.get(key);
    return pair && bytes.subarray(pair.value, pair.end);
  };
  const t = view("t");
  const [r, o, e, s, tp, d] = [view("r"), view("o"), view("e"), view("s"), view("tp"), view("d")];
  if (!t || !r || !o || !e || !s || !tp) return null;
  // Pairs in the frame's order (a Map keeps insertion order); spliced without copying when adjacent.
  const keep = [...pairs.values()].filter((pair) => pair.key !== "f");
  const adjacent = keep.every((pair, i) => i === 0 || pair.start === keep[i - 1].end);
  const values: SignedValues = { r, o, e, s, tp, d };
  if (adjacent) {
    const ownHeader = keep[0].start === 1 && bytes[0] === ((TYPE_MAP << 5) | keep.length);
    return new EncodedMessage(bytes, keep[0].start, keep[keep.length - 1].end, keep.length, ownHeader, values);
  }
  const body = concat(keep.map((pair) => bytes.subarray(pair.start, pair.end)));
  return new EncodedMessage(body, 0, body.length, keep.length, false, values);
}

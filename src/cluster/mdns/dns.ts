/**
 * A small, strict DNS wire codec for multicast DNS (RFC 1035, 6762, 6763):
 * questions and PTR, SRV, TXT, A, AAAA records; other record types are kept
 * as raw bytes. The decoder follows compression pointers only backwards
 * (so it cannot loop) and bounds counts, label and name lengths; every
 * failure is a `WireError`. The encoder writes names uncompressed.
 *
 * @module
 */
import { WireError } from "../../wire/errors.ts";

/** Record types we understand. */
export const DnsType = { A: 1, PTR: 12, TXT: 16, AAAA: 28, SRV: 33, ANY: 255 } as const;

/** Largest mDNS message we accept, bytes. */
export const MAX_DNS_MESSAGE = 9000;
const MAX_RECORDS = 256;
const MAX_NAME = 255;
const MESSAGE_TYPE = "dns message";

/** A question. `unicastResponse` is mDNS's QU bit. */
export interface DnsQuestion {
  name: string;
  type: number;
  unicastResponse?: boolean;
}

interface RecordBase {
  name: string;
  ttl: number;
  /** mDNS cache-flush bit (unique records). */
  cacheFlush?: boolean;
}

/** A resource record. */
export type DnsRecord =
  | RecordBase & { type: typeof DnsType.PTR; target: string }
  | RecordBase & { type: typeof DnsType.SRV; priority: number; weight: number; port: number; target: string }
  | RecordBase & { type: typeof DnsType.TXT; strings: string[] }
  | RecordBase & { type: typeof DnsType.A; address: string }
  | RecordBase & { type: typeof DnsType.AAAA; address: string }
  | RecordBase & { type: number; data: Uint8Array; other: true };

/** A DNS message. */
export interface DnsMessage {
  id: number;
  response: boolean;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const looseUtf8 = new TextDecoder("utf-8");

class Writer {
  #parts: number[] = [];
  u8(v: number) {
    this.#parts.push(v & 0xff);
  }
  u16(v: number) {
    this.u8(v >> 8), this.u8(v);
  }
  u32(v: number) {
    this.u16(v >>> 16), this.u16(v & 0xffff);
  }
  bytes(b: Uint8Array) {
    for (const x of b) this.#parts.push(x);
  }
  name(name: string) {
    for (const label of name.split(".").filter((l) => l.length > 0)) {
      const b = utf8.encode(label);
      if (b.length > 63) throw new RangeError(`DNS label too long: ${label}`);
      this.u8(b.length), this.bytes(b);
    }
    this.u8(0);
  }
  get length() {
    return this.#parts.length;
  }
  out(): Uint8Array {
    return Uint8Array.from(this.#parts);
  }
}

function rdata(r: DnsRecord): Uint8Array {
  const w = new Writer();
  if ("other" in r) w.bytes(r.data);
  else if (r.type === DnsType.PTR) w.name(r.target);
  else if (r.type === DnsType.SRV) w.u16(r.priority), w.u16(r.weight), w.u16(r.port), w.name(r.target);
  else if (r.type === DnsType.TXT) {
    for (const s of r.strings.length ? r.strings : [""]) {
      const b = utf8.encode(s);
      if (b.length > 255) throw new RangeError("TXT string longer than 255 bytes");
      w.u8(b.length), w.bytes(b);
    }
  } else if (r.type === DnsType.A) { for (const part of r.address.split(".")) w.u8(Number(part)); }
  else if (r.type === DnsType.AAAA) { for (const group of expandIPv6(r.address)) w.u16(group); }
  return w.out();
}

function expandIPv6(address: string): number[] {
  const [head, tail] = address.split("::");
  const h = head ? head.split(":") : [];
  const t = tail !== undefined && tail ? tail.split(":") : [];
  const fill = tail === undefined ? [] : Array(8 - h.length - t.length).fill("0");
  return [...h, ...fill, ...t].map((g) => parseInt(g, 16));
}

/**
 * Encode a message (names uncompressed).
 *
 * @example
 * ```ts
 * import { decodeDns, DnsType, encodeDns } from "./dns.ts";
 * const bytes = encodeDns({
 *   id: 0, response: false, answers: [], authorities: [], additionals: [],
 *   questions: [{ name: "_macula._udp.local", type: DnsType.PTR }],
 * });
 * decodeDns(bytes).questions[0].name; // "_macula._udp.local"
 * ```
 */
export function encodeDns(m: DnsMessage): Uint8Array {
  const w = new Writer();
  w.u16(m.id);
  w.u16(m.response ? 0x8400 : 0); // QR + AA for responses
  w.u16(m.questions.length), w.u16(m.answers.length), w.u16(m.authorities.length), w.u16(m.additionals.length);
  for (const q of m.questions) w.name(q.name), w.u16(q.type), w.u16(1 | (q.unicastResponse ? 0x8000 : 0));
  for (const r of [...m.answers, ...m.authorities, ...m.additionals]) {
    const data = rdata(r);
    w.name(r.name), w.u16(r.type), w.u16(1 | (r.cacheFlush ? 0x8000 : 0)), w.u32(r.ttl), w.u16(data.length);
    w.bytes(data);
  }
  return w.out();
}

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}
  need(n: number) {
    if (this.pos + n > this.buf.length) {
      throw new WireError("E_WIRE_TRUNCATED", MESSAGE_TYPE, `needs ${n} bytes at offset ${this.pos}`);
    }
  }
  u8() {
    this.need(1);
    return this.buf[this.pos++];
  }
  u16() {
    this.need(2);
    const v = (this.buf[this.pos] << 8) | this.buf[this.pos + 1];
    this.pos += 2;
    return v;
  }
  u32() {
    return ((this.u16() << 16) >>> 0) + this.u16();
  }
  take(n: number) {
    this.need(n);
    return this.buf.subarray(this.pos, this.pos += n);
  }
  /** A possibly compressed name; pointers must point strictly backwards. */
  name(): string {
    const labels: string[] = [];
    let pos = this.pos;
    let jumped = false;
    let length = 0;
    let limit = pos; // a pointer must go below the start of the name part that contains it
    for (let hops = 0;; hops++) {
      if (pos >= this.buf.length) throw new WireError("E_WIRE_TRUNCATED", MESSAGE_TYPE, "name runs past the end");
      const len = this.buf[pos];
      if ((len & 0xc0) === 0xc0) {
        if (pos + 1 >= this.buf.length) throw new WireError("E_WIRE_TRUNCATED", MESSAGE_TYPE, "truncated pointer");
        const target = ((len & 0x3f) << 8) | this.buf[pos + 1];
        if (target >= limit || hops > 64) {
          throw new WireError("E_WIRE_INVALID", MESSAGE_TYPE, "name compression pointer does not point backwards");
        }
        if (!jumped) this.pos = pos + 2;
        jumped = true;
        pos = limit = target;
        continue;
      }
      if ((len & 0xc0) !== 0) throw new WireError("E_WIRE_INVALID", MESSAGE_TYPE, `bad label type ${len >> 6}`);
      if (len === 0) {
        if (!jumped) this.pos = pos + 1;
        return labels.join(".");
      }
      if (pos + 1 + len > this.buf.length) throw new WireError("E_WIRE_TRUNCATED", MESSAGE_TYPE, "label past the end");
      length += len + 1;
      if (length > MAX_NAME) throw new WireError("E_WIRE_INVALID", MESSAGE_TYPE, "name longer than 255 bytes");
      try {
        labels.push(strictUtf8.decode(this.buf.subarray(pos + 1, pos + 1 + len)));
      } catch {
        throw new WireError("E_WIRE_INVALID", MESSAGE_TYPE, "label is not UTF-8");
      }
      pos += 1 + len;
    }
  }
}

function readRecord(r: Reader): DnsRecord {
  const name = r.name();
  const type = r.u16();
  const cls = r.u16();
  const ttl = r.u32();
  const len = r.u16();
  r.need(len);
  const end = r.pos + len;
  const base = { name, ttl, cacheFlush: (cls & 0x8000) !== 0 };
  const inside = <T>(fn: () => T): T => {
    const v = fn();
    if (r.pos !== end) {
      throw new WireError("E_WIRE_INVALID", MESSAGE_TYPE, `record data of type ${type} has the wrong length`);
    }
    return v;
  };
  switch (type) {
    case DnsType.PTR:
      return inside(() => ({ ...base, type, target: r.name() }));
    case DnsType.SRV:
      return inside(() => ({ ...base, type, priority: r.u16(), weight: r.u16(), port: r.u16(), target: r.name() }));
    case DnsType.TXT:
      return inside(() => {
        const strings: string[] = [];
        while (r.pos < end) {
          const n = r.u8();
          if (r.pos + n > end) throw new WireError("E_WIRE_INVALID", MESSAGE_TYPE, "TXT string past the record");
          strings.push(looseUtf8.decode(r.take(n)));
        }
        return { ...base, type, strings };
      });
    case DnsType.A:
      if (len !== 4) throw new WireError("E_WIRE_INVALID", MESSAGE_TYPE, "A record is not 4 bytes");
      return { ...base, type, address: [...r.take(4)].join(".") };
    case DnsType.AAAA: {
      if (len !== 16) throw new WireError("E_WIRE_INVALID", MESSAGE_TYPE, "AAAA record is not 16 bytes");
      const b = r.take(16);
      const groups = Array.from({ length: 8 }, (_, i) => ((b[2 * i] << 8) | b[2 * i + 1]).toString(16));
      return { ...base, type, address: groups.join(":") };
    }
    default:
      return { ...base, type, data: r.take(len).slice(), other: true };
  }
}

/** Decode a DNS message. Throws `WireError` on anything malformed. */
export function decodeDns(bytes: Uint8Array): DnsMessage {
  if (!(bytes instanceof Uint8Array)) throw new WireError("E_WIRE_INVALID", MESSAGE_TYPE, "not bytes");
  if (bytes.length > MAX_DNS_MESSAGE) throw new WireError("E_WIRE_OVERSIZED", MESSAGE_TYPE, `${bytes.length} bytes`);
  const r = new Reader(bytes);
  const id = r.u16();
  const flags = r.u16();
  const counts = [r.u16(), r.u16(), r.u16(), r.u16()];
  if (counts.reduce((a, b) => a + b, 0) > MAX_RECORDS) {
    throw new WireError("E_WIRE_INVALID", MESSAGE_TYPE, "too many questions and records");
  }
  const questions: DnsQuestion[] = [];
  for (let i = 0; i < counts[0]; i++) {
    const name = r.name();
    const type = r.u16();
    const cls = r.u16();
    questions.push({ name, type, unicastResponse: (cls & 0x8000) !== 0 });
  }
  const section = (n: number) => Array.from({ length: n }, () => readRecord(r));
  const answers = section(counts[1]);
  const authorities = section(counts[2]);
  const additionals = section(counts[3]);
  return { id, response: (flags & 0x8000) !== 0, questions, answers, authorities, additionals };
}

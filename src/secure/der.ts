/**
 * A minimal DER (ASN.1) writer: just the types an X.509 certificate needs.
 *
 * @module
 */
import { concat, utf8 } from "../util/bytes.ts";

function length(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

/** Encode a tag-length-value. */
export function tlv(tag: number, value: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(tag), length(value.length), value);
}

/** SEQUENCE of already-encoded elements. */
export function sequence(...items: Uint8Array[]): Uint8Array {
  return tlv(0x30, concat(...items));
}

/** SET of already-encoded elements (caller keeps DER order). */
export function set(...items: Uint8Array[]): Uint8Array {
  return tlv(0x31, concat(...items));
}

/** Non-negative INTEGER from big-endian magnitude bytes. */
export function integer(magnitude: Uint8Array): Uint8Array {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  let body = magnitude.subarray(i);
  if (body.length === 0) body = Uint8Array.of(0);
  if (body[0] & 0x80) body = concat(Uint8Array.of(0), body);
  return tlv(0x02, body);
}

/** OBJECT IDENTIFIER from dotted form. */
export function oid(dotted: string): Uint8Array {
  const parts = dotted.split(".").map(Number);
  const out: number[] = [];
  for (const p of [parts[0] * 40 + parts[1], ...parts.slice(2)]) {
    const chunk: number[] = [p & 0x7f];
    let v = Math.floor(p / 128);
    while (v > 0) {
      chunk.unshift((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(...chunk);
  }
  return tlv(0x06, Uint8Array.from(out));
}

/** BOOLEAN. */
export function boolean(value: boolean): Uint8Array {
  return tlv(0x01, Uint8Array.of(value ? 0xff : 0));
}

/** BIT STRING with no unused bits. */
export function bitString(bytes: Uint8Array): Uint8Array {
  return tlv(0x03, concat(Uint8Array.of(0), bytes));
}

/** OCTET STRING. */
export function octetString(bytes: Uint8Array): Uint8Array {
  return tlv(0x04, bytes);
}

/** UTF8String. */
export function utf8String(text: string): Uint8Array {
  return tlv(0x0c, utf8(text));
}

/** UTCTime (years 1950–2049), `YYMMDDHHMMSSZ`. */
export function utcTime(text: string): Uint8Array {
  return tlv(0x17, utf8(text));
}

/** GeneralizedTime, `YYYYMMDDHHMMSSZ`. */
export function generalizedTime(text: string): Uint8Array {
  return tlv(0x18, utf8(text));
}

/** Context-specific constructed (EXPLICIT) tag `[n]`. */
export function explicit(n: number, inner: Uint8Array): Uint8Array {
  return tlv(0xa0 | n, inner);
}

/** Context-specific primitive (IMPLICIT) tag `[n]`. */
export function implicit(n: number, value: Uint8Array): Uint8Array {
  return tlv(0x80 | n, value);
}

/** PEM-armour DER bytes. */
export function pem(label: string, der: Uint8Array): string {
  let b64 = "";
  for (let i = 0; i < der.length; i += 0x8000) {
    b64 += String.fromCharCode(...der.subarray(i, i + 0x8000));
  }
  const body = btoa(b64).replace(/(.{64})/g, "$1\n").replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

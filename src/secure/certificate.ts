/**
 * Self-signed Ed25519 X.509 certificates that bind a TLS endpoint to a node
 * id, and the matching trust anchors a dialer builds from the id alone.
 *
 * The certificate's issuer and subject are a name derived from the public
 * key, `basicConstraints` is `CA:FALSE` and the validity spans 1970–9999 so a
 * board without a real-time clock still accepts it. A dialer that knows the
 * peer's key builds an anchor with the same name and key (its own signature
 * is never checked), so TLS itself proves the server holds that key.
 *
 * @module
 */
import type { KeyPair } from "../identity/ed25519.ts";
import { seedToPkcs8 } from "../identity/ed25519.ts";
import { toBase32 } from "../util/bytes.ts";
import {
  bitString,
  boolean,
  explicit,
  generalizedTime,
  implicit,
  integer,
  octetString,
  oid,
  pem,
  sequence,
  set,
  utcTime,
  utf8String,
} from "./der.ts";

const ED25519 = "1.3.101.112";
const ZERO_SIGNATURE = new Uint8Array(64);

/** The DNS name a node's certificate carries, derived from its public key. */
export function serverNameFor(publicKey: Uint8Array): string {
  return `${toBase32(publicKey)}.macula`;
}

function name(publicKey: Uint8Array): Uint8Array {
  return sequence(set(sequence(oid("2.5.4.3"), utf8String(serverNameFor(publicKey)))));
}

function tbsCertificate(publicKey: Uint8Array): Uint8Array {
  const algorithm = sequence(oid(ED25519));
  const subject = name(publicKey);
  // Serial: the public key's first 16 bytes, so anchor and certificate agree.
  const serial = integer(Uint8Array.of(0x01, ...publicKey.subarray(0, 15)));
  const extensions = sequence(
    // basicConstraints, critical, CA:FALSE (an empty SEQUENCE).
    sequence(oid("2.5.29.19"), boolean(true), octetString(sequence())),
    // keyUsage, critical, digitalSignature.
    sequence(oid("2.5.29.15"), boolean(true), octetString(Uint8Array.of(0x03, 0x02, 0x07, 0x80))),
    // subjectAltName: dNSName.
    sequence(
      oid("2.5.29.17"),
      octetString(sequence(implicit(2, new TextEncoder().encode(serverNameFor(publicKey))))),
    ),
  );
  return sequence(
    explicit(0, integer(Uint8Array.of(2))),
    serial,
    algorithm,
    subject,
    sequence(utcTime("700101000000Z"), generalizedTime("99991231235959Z")),
    subject,
    sequence(algorithm, bitString(publicKey)),
    explicit(3, extensions),
  );
}

function certificate(tbs: Uint8Array, signature: Uint8Array): Uint8Array {
  return sequence(tbs, sequence(oid(ED25519)), bitString(signature));
}

/** A PEM certificate and PKCS#8 key for a TLS listener. */
export interface TlsIdentity {
  /** PEM certificate chain (one self-signed certificate). */
  cert: string;
  /** PEM PKCS#8 private key. */
  key: string;
}

/** Build the TLS identity (certificate + key) of a node key pair. */
export function tlsIdentity(keyPair: KeyPair): TlsIdentity {
  const tbs = tbsCertificate(keyPair.publicKey);
  return {
    cert: pem("CERTIFICATE", certificate(tbs, keyPair.sign(tbs))),
    key: pem("PRIVATE KEY", seedToPkcs8(keyPair.exportSeed())),
  };
}

/**
 * Build a PEM trust anchor that accepts exactly the server holding
 * `publicKey`. Its signature is a placeholder: anchors are not verified.
 */
export function trustAnchor(publicKey: Uint8Array): string {
  const key = toBase32(publicKey);
  let anchor = anchors.get(key);
  if (anchor === undefined) {
    anchor = pem("CERTIFICATE", certificate(tbsCertificate(publicKey), ZERO_SIGNATURE));
    if (anchors.size >= 1024) anchors.delete(anchors.keys().next().value!);
    anchors.set(key, anchor);
  }
  return anchor;
}

const anchors = new Map<string, string>();

import { assert, assertEquals } from "../helpers/assert.ts";
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
  tlv,
  utcTime,
  utf8String,
} from "../../src/secure/der.ts";
import { serverNameFor, tlsIdentity, trustAnchor } from "../../src/secure/certificate.ts";
import { KeyPair, publicKeyToSpki } from "../../src/identity/ed25519.ts";
import { fromBase64, toBase32, toHex } from "../../src/util/bytes.ts";
import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { Buffer } from "node:buffer";

const hex = (bytes: Uint8Array) => toHex(bytes);

// ---------------------------------------------------------------- DER

Deno.test("der: OIDs encode to their known byte strings", () => {
  assertEquals(hex(oid("1.3.101.112")), "06032b6570"); // Ed25519
  assertEquals(hex(oid("2.5.29.17")), "0603551d11"); // subjectAltName
  assertEquals(hex(oid("2.5.29.19")), "0603551d13"); // basicConstraints
  assertEquals(hex(oid("2.5.29.15")), "0603551d0f"); // keyUsage
  assertEquals(hex(oid("2.5.4.3")), "0603550403"); // commonName
  assertEquals(hex(oid("1.2.840.113549.1.1.11")), "06092a864886f70d01010b"); // sha256WithRSAEncryption
  assertEquals(hex(oid("1.3.6.1.4.1.311.21.20")), "06092b0601040182371514"); // multi-byte arc 311
  assertEquals(hex(oid("2.16.840.1.101.3.4.2.1")), "0609608648016503040201"); // sha256
  assertEquals(hex(oid("1.2.128")), "06032a8100"); // arc exactly 128
  assertEquals(hex(oid("1.2.16383")), "06032aff7f");
  assertEquals(hex(oid("1.2.16384")), "06042a818000");
});

Deno.test("der: OIDs with a large second arc under joint-iso-itu-t (2.x, x >= 48)", () => {
  // X.690 §8.19.4: the first subidentifier 2*40+999 = 1079 is itself base-128 encoded.
  assertEquals(hex(oid("2.999.3")), "0603883703");
  assertEquals(hex(oid("2.100.3")), "0603813403");
});

Deno.test("der: lengths use short form below 128 and long form from 128", () => {
  const header = (n: number) => hex(tlv(0x04, new Uint8Array(n)).subarray(0, 5));
  assertEquals(hex(tlv(0x04, new Uint8Array(0))), "0400");
  assert(header(127).startsWith("047f"), header(127));
  assert(header(128).startsWith("048180"), header(128));
  assert(header(255).startsWith("0481ff"), header(255));
  assert(header(256).startsWith("04820100"), header(256));
  assert(header(65535).startsWith("0482ffff"), header(65535));
  assert(header(65536).startsWith("0483010000"), header(65536));
  for (const n of [0, 1, 127, 128, 255, 256, 1000, 65536]) {
    const t = tlv(0x04, new Uint8Array(n));
    const headerLen = n < 128 ? 2 : n < 256 ? 3 : n < 65536 ? 4 : 5;
    assertEquals(t.length, headerLen + n, `length ${n}`);
  }
});

Deno.test("der: INTEGER is minimal and non-negative", () => {
  assertEquals(hex(integer(new Uint8Array(0))), "020100");
  assertEquals(hex(integer(Uint8Array.of(0))), "020100");
  assertEquals(hex(integer(Uint8Array.of(0, 0, 0))), "020100");
  assertEquals(hex(integer(Uint8Array.of(2))), "020102");
  assertEquals(hex(integer(Uint8Array.of(0x7f))), "02017f");
  assertEquals(hex(integer(Uint8Array.of(0x80))), "02020080", "a high bit needs a leading zero");
  assertEquals(hex(integer(Uint8Array.of(0, 0, 0x80))), "02020080");
  assertEquals(hex(integer(Uint8Array.of(0, 0x01, 0x00))), "02020100");
  assertEquals(hex(integer(Uint8Array.of(0xff, 0xff))), "020300ffff");
  assertEquals(hex(integer(Uint8Array.of(0x01, 0x00, 0x01))), "0203010001"); // 65537
});

Deno.test("der: the other primitives and constructed types", () => {
  assertEquals(hex(boolean(true)), "0101ff");
  assertEquals(hex(boolean(false)), "010100");
  assertEquals(hex(bitString(Uint8Array.of(0xab, 0xcd))), "030300abcd");
  assertEquals(hex(octetString(Uint8Array.of(1, 2))), "04020102");
  assertEquals(hex(utf8String("hé")), "0c0368c3a9");
  assertEquals(hex(utcTime("700101000000Z")), "170d" + hex(new TextEncoder().encode("700101000000Z")));
  assertEquals(hex(generalizedTime("99991231235959Z")).slice(0, 4), "180f");
  assertEquals(hex(sequence()), "3000");
  assertEquals(hex(sequence(boolean(true), integer(Uint8Array.of(5)))), "30060101ff020105");
  assertEquals(hex(set(integer(Uint8Array.of(1)))), "3103020101");
  assertEquals(hex(explicit(0, integer(Uint8Array.of(2)))), "a003020102");
  assertEquals(hex(explicit(3, sequence())), "a3023000");
  assertEquals(hex(implicit(2, new TextEncoder().encode("a.b"))), "8203612e62");
});

Deno.test("der: PEM armour is base64 in 64-character lines between BEGIN/END", () => {
  for (const n of [1, 47, 48, 49, 96, 200, 1000]) {
    const der = Uint8Array.from({ length: n }, (_, i) => (i * 7) & 0xff);
    const text = pem("CERTIFICATE", der);
    const lines = text.split("\n");
    assertEquals(lines[0], "-----BEGIN CERTIFICATE-----", `n=${n}`);
    assertEquals(lines.at(-2), "-----END CERTIFICATE-----", `n=${n}`);
    assertEquals(lines.at(-1), "", "ends with a newline");
    const body = lines.slice(1, -2);
    assert(body.every((l) => l.length > 0 && l.length <= 64), `n=${n}: ${JSON.stringify(body)}`);
    assert(body.slice(0, -1).every((l) => l.length === 64), `n=${n}: only the last line may be short`);
    assertEquals(fromBase64(body.join("")), der, `n=${n}`);
  }
  assert(pem("PRIVATE KEY", Uint8Array.of(1)).startsWith("-----BEGIN PRIVATE KEY-----\n"));
});

// ---------------------------------------------------------------- certificates

const kp = KeyPair.generate();
const pub = kp.publicKey;
const spkiKey = (publicKey: Uint8Array) =>
  createPublicKey({ key: Buffer.from(publicKeyToSpki(publicKey)), format: "der", type: "spki" });

Deno.test("certificate: serverNameFor is the base32 key plus .macula", () => {
  const name = serverNameFor(pub);
  assertEquals(name, `${toBase32(pub)}.macula`);
  assert(/^[a-z2-7]{52}\.macula$/.test(name), name);
  assertEquals(serverNameFor(new Uint8Array(32)), "a".repeat(52) + ".macula");
});

Deno.test("certificate: the TLS identity parses with X509Certificate and has the expected fields", () => {
  const { cert, key } = tlsIdentity(kp);
  assert(cert.startsWith("-----BEGIN CERTIFICATE-----\n"));
  assert(key.startsWith("-----BEGIN PRIVATE KEY-----\n"));
  const x = new X509Certificate(cert);
  const name = serverNameFor(pub);
  assertEquals(x.subject, `CN=${name}`);
  assertEquals(x.issuer, `CN=${name}`);
  assertEquals(x.ca, false);
  assertEquals(x.subjectAltName, `DNS:${name}`);
  assertEquals(x.checkHost(name), name);
  assertEquals(x.checkHost("other.macula"), undefined);
  assertEquals(new Date(x.validFrom).toISOString(), "1970-01-01T00:00:00.000Z");
  assertEquals(new Date(x.validTo).toISOString(), "9999-12-31T23:59:59.000Z");
  // serial: 0x01 followed by the first 15 key bytes (compared numerically: leading zeros vary by runtime)
  assertEquals(BigInt("0x" + x.serialNumber), BigInt("0x01" + toHex(pub.subarray(0, 15))));
  assertEquals(x.publicKey.asymmetricKeyType, "ed25519");
  const spki = x.publicKey.export({ format: "der", type: "spki" });
  assertEquals(new Uint8Array(spki), publicKeyToSpki(pub));
});

Deno.test("certificate: the self-signature verifies with the node key only", () => {
  const x = new X509Certificate(tlsIdentity(kp).cert);
  assertEquals(x.verify(spkiKey(pub)), true);
  assertEquals(x.verify(spkiKey(KeyPair.generate().publicKey)), false);
});

Deno.test("certificate: the private key matches the certificate", () => {
  const { cert, key } = tlsIdentity(kp);
  const privateKey = createPrivateKey(key);
  assertEquals(privateKey.asymmetricKeyType, "ed25519");
  assert(new X509Certificate(cert).checkPrivateKey(privateKey));
  assert(!new X509Certificate(cert).checkPrivateKey(createPrivateKey(tlsIdentity(KeyPair.generate()).key)));
});

Deno.test("certificate: the identity is deterministic for a key pair", () => {
  const again = KeyPair.fromSeed(kp.exportSeed());
  assertEquals(tlsIdentity(again), tlsIdentity(kp));
});

Deno.test("certificate: the trust anchor has the same subject, key and serial, but a placeholder signature", () => {
  const cert = new X509Certificate(tlsIdentity(kp).cert);
  const anchor = new X509Certificate(trustAnchor(pub));
  assertEquals(anchor.subject, cert.subject);
  assertEquals(anchor.issuer, cert.issuer);
  assertEquals(anchor.serialNumber, cert.serialNumber);
  assertEquals(anchor.subjectAltName, cert.subjectAltName);
  assertEquals(anchor.ca, false);
  assert(anchor.publicKey.equals(cert.publicKey));
  assertEquals(anchor.verify(spkiKey(pub)), false, "the anchor's signature is all zeros");
  // the anchor's DER is the certificate's to-be-signed part plus a zero signature
  const anchorDer = new Uint8Array(anchor.raw);
  assertEquals(hex(anchorDer.subarray(anchorDer.length - 64)), "00".repeat(64));
  const certDer = new Uint8Array(cert.raw);
  assertEquals(hex(anchorDer.subarray(0, anchorDer.length - 64)), hex(certDer.subarray(0, certDer.length - 64)));
});

Deno.test("certificate: different keys give different names and anchors", () => {
  const other = KeyPair.generate().publicKey;
  assert(serverNameFor(other) !== serverNameFor(pub));
  const a = new X509Certificate(trustAnchor(other));
  assertEquals(a.subject, `CN=${serverNameFor(other)}`);
  assert(!a.publicKey.equals(spkiKey(pub)));
});

Deno.test("certificate: the DER carries version 3, Ed25519, the validity and critical extensions", () => {
  const der = new X509Certificate(tlsIdentity(kp).cert).raw;
  const h = toHex(new Uint8Array(der));
  assert(h.includes("a003020102"), "explicit [0] version v3");
  assert(h.includes("300506032b6570"), "AlgorithmIdentifier Ed25519 without parameters");
  assert(h.includes("170d3730303130313030303030305a"), "UTCTime 700101000000Z");
  assert(h.includes("180f" + toHex(new TextEncoder().encode("99991231235959Z"))), "GeneralizedTime 9999");
  assert(h.includes("300c0603551d130101ff04023000"), "basicConstraints: critical, CA:FALSE");
  assert(h.includes("300e0603551d0f0101ff0404030207" + "80"), "keyUsage: critical, digitalSignature");
});

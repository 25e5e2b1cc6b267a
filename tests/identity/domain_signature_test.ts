/** Domain-separated signatures: what a service can sign never passes as anything else. */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { KeyPair, verify } from "../../src/identity/ed25519.ts";
import { domainSeparated, signerOf, verifyDomain } from "../../src/identity/domain-signature.ts";
import { createNodeRecord, decodeNodeRecord, encodeNodeRecord } from "../../src/identity/node-record.ts";
import { encodeCbor } from "../../src/wire/cbor.ts";

Deno.test("domainSeparated: 0xff, the prefix, the domain, NUL, then the message", () => {
  const bytes = domainSeparated("dht/provider", Uint8Array.of(1, 2));
  assertEquals(bytes[0], 0xff);
  assertEquals(new TextDecoder().decode(bytes.subarray(1, bytes.length - 3)), "macula-service/dht/provider");
  assertEquals([...bytes.subarray(bytes.length - 3)], [0, 1, 2]);
});

Deno.test("domainSeparated: bad domains are TypeErrors", () => {
  for (const d of ["", "Upper", "has space", "a".repeat(65), "-lead", "null\0", "é"]) {
    assertThrows(() => domainSeparated(d, new Uint8Array()), TypeError, "signature domain");
  }
});

Deno.test("no CBOR item and no core format starts like a service signature", () => {
  // Every CBOR initial byte but 0xff (break) is a valid item head; core formats are CBOR or ASCII-prefixed.
  for (const value of [[1], { a: 1 }, "text", new Uint8Array(3), 5, -1, null, true, 1.5]) {
    assert(encodeCbor(value)[0] !== 0xff);
  }
});

Deno.test("a service signature verifies only in its own domain and never as a raw or node-record signature", () => {
  const kp = KeyPair.generate();
  const signer = signerOf(kp);
  const record = createNodeRecord(kp, { addrs: ["quic://10.0.0.1:9443"], realms: ["default"] });
  const wire = encodeNodeRecord(record);
  const sig = signer.sign("example", wire);
  assert(verifyDomain(kp.publicKey, "example", wire, sig));
  assert(!verifyDomain(kp.publicKey, "examplf", wire, sig));
  assert(!verify(kp.publicKey, wire, sig));
  assertEquals(decodeNodeRecord(wire).id.did, signer.id.did);
  assert(!verifyDomain(KeyPair.generate().publicKey, "example", wire, sig), "another key");
});

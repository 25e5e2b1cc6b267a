/**
 * Domain-separated signatures for services. A service never holds the node's
 * key; it asks its host to `sign(domain, message)`, and the node signs
 * `domainSeparated(domain, message)`:
 *
 * ```
 * 0xff "macula-service/" domain 0x00 message
 * ```
 *
 * The leading `0xff` is a CBOR "break" byte, which no CBOR item starts with,
 * and no core format (node records, QUIC proofs, Noise identity payloads,
 * cluster datagrams) starts with it either. So a signature a service obtains
 * can never pass as one of those, and two domains can never share a
 * signature.
 *
 * @module
 */
import { concat, utf8 } from "../util/bytes.ts";
import { type KeyPair, verify } from "./ed25519.ts";
import { NodeId } from "./node-id.ts";

const DOMAIN = /^[a-z0-9][a-z0-9./_-]{0,63}$/;
const PREFIX = concat(Uint8Array.of(0xff), utf8("macula-service/"));
const cache = new Map<string, Uint8Array>();

/**
 * The bytes actually signed for `message` in `domain`. Throws `TypeError`
 * for a domain that is not 1-64 of `a-z 0-9 . / _ -`.
 *
 * @example
 * ```ts
 * import { domainSeparated } from "./domain-signature.ts";
 * const bytes = domainSeparated("dht/provider", new Uint8Array([1, 2, 3]));
 * bytes[0]; // 0xff
 * ```
 */
export function domainSeparated(domain: string, message: Uint8Array): Uint8Array {
  let head = cache.get(domain);
  if (!head) {
    if (typeof domain !== "string" || !DOMAIN.test(domain)) {
      throw new TypeError(`invalid signature domain ${JSON.stringify(domain)}: use 1-64 of a-z 0-9 . / _ -`);
    }
    head = concat(PREFIX, utf8(domain), Uint8Array.of(0));
    if (cache.size < 256) cache.set(domain, head);
  }
  return concat(head, message);
}

/**
 * Check a signature made by `ServiceHost.sign(domain, message)` of the node
 * whose public key is `publicKey`.
 *
 * @example
 * ```ts
 * import { KeyPair } from "./ed25519.ts";
 * import { domainSeparated, verifyDomain } from "./domain-signature.ts";
 * const kp = KeyPair.generate();
 * const msg = new Uint8Array([7]);
 * const sig = kp.sign(domainSeparated("example", msg));
 * verifyDomain(kp.publicKey, "example", msg, sig); // true
 * verifyDomain(kp.publicKey, "other", msg, sig); // false
 * ```
 */
export function verifyDomain(
  publicKey: Uint8Array,
  domain: string,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  return verify(publicKey, domainSeparated(domain, message), signature);
}

/** Signs with domain separation on behalf of node `id` (a `ServiceHost` is one). */
export interface DomainSigner {
  /** The signing node's id. */
  readonly id: NodeId;
  /** Sign `domainSeparated(domain, message)`. */
  sign(domain: string, message: Uint8Array): Uint8Array;
}

/**
 * A `DomainSigner` over a key pair (the node core's; also handy in tests).
 *
 * @example
 * ```ts
 * import { KeyPair } from "./ed25519.ts";
 * import { signerOf, verifyDomain } from "./domain-signature.ts";
 * const signer = signerOf(KeyPair.generate());
 * const sig = signer.sign("example", new Uint8Array([1]));
 * verifyDomain(signer.id.bytes, "example", new Uint8Array([1]), sig); // true
 * ```
 */
export function signerOf(keyPair: KeyPair): DomainSigner {
  return {
    id: new NodeId(keyPair.publicKey),
    sign: (domain, message) => keyPair.sign(domainSeparated(domain, message)),
  };
}

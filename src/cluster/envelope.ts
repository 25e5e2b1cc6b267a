/**
 * The cluster datagram envelope. Every cluster datagram (announcements and
 * SWIM messages) is signed by its sender's Ed25519 key, carries a timestamp
 * and a random nonce, and — in a cluster with a secret — an HMAC-SHA256 of
 * everything before it:
 *
 * ```
 * offset  size  field
 * 0       4     magic "MCL" + version 0x01
 * 4       1     flags: bit 0 = MAC present (other bits must be 0)
 * 5       32    sender node id (Ed25519 public key)
 * 37      8     timestamp, ms since the Unix epoch, unsigned big-endian
 * 45      8     nonce (random)
 * 53      n     body (CBOR, see messages.ts)
 * 53+n    64    Ed25519 signature over "macula-cluster/1\0" || bytes[0, 53+n)
 * 117+n   32    HMAC-SHA256(cluster key, bytes[0, 117+n))   — only with the MAC flag
 * ```
 *
 * Checks run cheapest first: size and header, MAC, timestamp, replay cache,
 * signature; only then is the nonce remembered.
 *
 * @module
 */
import { type DomainSigner, verifyDomain } from "../identity/domain-signature.ts";
import { NodeId } from "../identity/node-id.ts";
import { concat, toHex } from "../util/bytes.ts";
import { DatagramDropError } from "./errors.ts";
import { type ClusterKey, MAC_LENGTH } from "./hmac.ts";
import type { ReplayGuard } from "./replay-guard.ts";

/** Largest datagram we send or accept, bytes (fits an Ethernet MTU with room for tunnels). */
export const MAX_DATAGRAM = 1400;
/** Bytes of the fixed header. */
export const HEADER_LENGTH = 53;
/** Bytes of the signature. */
export const SIGNATURE_LENGTH = 64;
/** Envelope overhead with a MAC, bytes. */
export const ENVELOPE_OVERHEAD = HEADER_LENGTH + SIGNATURE_LENGTH + MAC_LENGTH;

const MAGIC = [0x4d, 0x43, 0x4c, 0x01];
const FLAG_MAC = 1;
/** Signature domain of cluster datagrams (`ServiceHost.sign`). */
export const DATAGRAM_DOMAIN = "cluster/datagram";

/** An authenticated datagram. */
export interface Opened {
  sender: NodeId;
  /** Sender's clock, ms since epoch. */
  timestamp: number;
  /** Hex nonce. */
  nonce: string;
  /** The CBOR body (not yet decoded). */
  body: Uint8Array;
}

/** What `openEnvelope` checks against. */
export interface OpenOptions {
  /** The cluster key; when set a valid MAC is required, when absent a MAC is refused. */
  key?: ClusterKey;
  guard: ReplayGuard;
  now?: number;
}

/**
 * Build a datagram around `body`.
 *
 * @example
 * ```ts
 * import { KeyPair } from "../identity/ed25519.ts";
 * import { openEnvelope, sealEnvelope } from "./envelope.ts";
 * import { ClusterKey } from "./hmac.ts";
 * import { ReplayGuard } from "./replay-guard.ts";
 * import { signerOf } from "../identity/domain-signature.ts";
 * const kp = KeyPair.generate();
 * const key = ClusterKey.fromSecret("s3cret-s3cret");
 * const bytes = sealEnvelope(signerOf(kp), new Uint8Array([0xa0]), { key });
 * openEnvelope(bytes, { key, guard: new ReplayGuard() }).sender; // kp's id
 * ```
 */
export function sealEnvelope(
  signer: DomainSigner,
  body: Uint8Array,
  options: { key?: ClusterKey; now?: number } = {},
): Uint8Array {
  const header = new Uint8Array(HEADER_LENGTH);
  header.set(MAGIC, 0);
  header[4] = options.key ? FLAG_MAC : 0;
  header.set(signer.id.bytes, 5);
  new DataView(header.buffer).setBigUint64(37, BigInt(Math.max(0, Math.floor(options.now ?? Date.now()))));
  crypto.getRandomValues(header.subarray(45, 53));
  const signed = concat(header, body);
  const withSig = concat(signed, signer.sign(DATAGRAM_DOMAIN, signed));
  return options.key ? concat(withSig, options.key.mac(withSig)) : withSig;
}

/**
 * Authenticate a datagram. Throws `DatagramDropError` naming the reason
 * (`malformed`, `missing_mac`, `bad_mac`, `unexpected_mac`, `stale`,
 * `replay`, `bad_signature`); on success the nonce is remembered.
 */
export function openEnvelope(bytes: Uint8Array, options: OpenOptions): Opened {
  if (!(bytes instanceof Uint8Array)) throw new DatagramDropError("malformed", "not bytes");
  if (bytes.length > MAX_DATAGRAM) throw new DatagramDropError("malformed", `${bytes.length} bytes is too long`);
  if (bytes.length < HEADER_LENGTH + SIGNATURE_LENGTH) {
    throw new DatagramDropError("malformed", `${bytes.length} bytes is too short`);
  }
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) throw new DatagramDropError("malformed", "bad magic or version");
  }
  const flags = bytes[4];
  if ((flags & ~FLAG_MAC) !== 0) throw new DatagramDropError("malformed", `unknown flags ${flags}`);
  const hasMac = (flags & FLAG_MAC) !== 0;
  let end = bytes.length;
  if (hasMac) {
    if (!options.key) throw new DatagramDropError("unexpected_mac", "datagram of a cluster with a secret");
    end -= MAC_LENGTH;
    if (end < HEADER_LENGTH + SIGNATURE_LENGTH) throw new DatagramDropError("malformed", "too short for a MAC");
    if (!options.key.verify(bytes.subarray(0, end), bytes.subarray(end))) {
      throw new DatagramDropError("bad_mac", "MAC does not verify");
    }
  } else if (options.key) {
    throw new DatagramDropError("missing_mac", "datagram without a MAC");
  }
  const now = options.now ?? Date.now();
  const senderBytes = bytes.slice(5, 37);
  const senderHex = toHex(senderBytes);
  const timestamp = Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(37));
  const nonce = toHex(bytes.subarray(45, 53));
  const fresh = options.guard.check(senderHex, nonce, timestamp, now);
  if (fresh === "stale") throw new DatagramDropError("stale", `timestamp ${timestamp} is outside the allowed skew`);
  if (fresh === "replay") throw new DatagramDropError("replay", "nonce seen before");
  const sigAt = end - SIGNATURE_LENGTH;
  if (!verifyDomain(senderBytes, DATAGRAM_DOMAIN, bytes.subarray(0, sigAt), bytes.subarray(sigAt, end))) {
    throw new DatagramDropError("bad_signature", "signature does not verify");
  }
  options.guard.accept(senderHex, nonce, timestamp, now);
  return { sender: new NodeId(senderBytes), timestamp, nonce, body: bytes.slice(HEADER_LENGTH, sigAt) };
}

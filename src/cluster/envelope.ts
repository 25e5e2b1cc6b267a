/**
 * The cluster datagram envelope. Every cluster datagram (announcements and
 * SWIM messages) is signed by its sender's Ed25519 key, carries the
 * sender's boot epoch and a per-datagram counter (no wall-clock time: see
 * `replay-guard.ts`), and — in a cluster with a secret — an HMAC-SHA256 of
 * everything before it:
 *
 * ```
 * offset  size  field
 * 0       4     magic "MCL" + version 0x02
 * 4       1     flags: bit 0 = MAC present (other bits must be 0)
 * 5       32    sender node id (Ed25519 public key)
 * 37      8     boot epoch (random, chosen when the sender's engine starts)
 * 45      8     counter, unsigned big-endian, +1 per datagram (at most 2^53 - 1)
 * 53      n     body (CBOR, see messages.ts)
 * 53+n    64    Ed25519 signature over "macula-cluster/1\0" || bytes[0, 53+n)
 * 117+n   32    HMAC-SHA256(cluster key, bytes[0, 117+n))   — only with the MAC flag
 * ```
 *
 * Checks run cheapest first: size and header, MAC, replay window,
 * signature; only then is the counter remembered. Version 0x01 (wall-clock
 * timestamps) is refused as malformed.
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

const MAGIC = [0x4d, 0x43, 0x4c, 0x02];
const FLAG_MAC = 1;
/** Signature domain of cluster datagrams (`ServiceHost.sign`). */
export const DATAGRAM_DOMAIN = "cluster/datagram";

/** An authenticated datagram. */
export interface Opened {
  sender: NodeId;
  /** Sender's boot epoch, hex. */
  epoch: string;
  /** Sender's datagram counter within the epoch. */
  counter: number;
  /** The CBOR body (not yet decoded). */
  body: Uint8Array;
}

/** What `openEnvelope` checks against. */
export interface OpenOptions {
  /** The cluster key; when set a valid MAC is required, when absent a MAC is refused. */
  key?: ClusterKey;
  guard: ReplayGuard;
}

/**
 * The sending side's stamp: a random boot epoch and a counter that rises
 * by one per sealed datagram.
 *
 * @example
 * ```ts
 * import { Stamper } from "./envelope.ts";
 * const stamper = new Stamper();
 * stamper.next(); // 1
 * stamper.next(); // 2
 * ```
 */
export class Stamper {
  /** The boot epoch, 8 random bytes. */
  readonly epoch: Uint8Array;
  #counter: number;

  /** A new epoch; `start` is the last counter used (default 0, so the first datagram carries 1). */
  constructor(options: { epoch?: Uint8Array; start?: number } = {}) {
    this.epoch = options.epoch ?? crypto.getRandomValues(new Uint8Array(8));
    if (this.epoch.length !== 8) throw new RangeError("an epoch is 8 bytes");
    this.#counter = options.start ?? 0;
  }

  /** The next counter. */
  next(): number {
    if (this.#counter >= Number.MAX_SAFE_INTEGER) throw new RangeError("counter exhausted; start a new epoch");
    return ++this.#counter;
  }
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
 *
 * Without `stamper` the datagram gets a fresh epoch and counter 1 (one-off
 * datagrams and tests); an engine passes its own.
 */
export function sealEnvelope(
  signer: DomainSigner,
  body: Uint8Array,
  options: { key?: ClusterKey; stamper?: Stamper } = {},
): Uint8Array {
  const stamper = options.stamper ?? new Stamper();
  const header = new Uint8Array(HEADER_LENGTH);
  header.set(MAGIC, 0);
  header[4] = options.key ? FLAG_MAC : 0;
  header.set(signer.id.bytes, 5);
  header.set(stamper.epoch, 37);
  new DataView(header.buffer).setBigUint64(45, BigInt(stamper.next()));
  const signed = concat(header, body);
  const withSig = concat(signed, signer.sign(DATAGRAM_DOMAIN, signed));
  return options.key ? concat(withSig, options.key.mac(withSig)) : withSig;
}

/**
 * Authenticate a datagram. Throws `DatagramDropError` naming the reason
 * (`malformed`, `missing_mac`, `bad_mac`, `unexpected_mac`, `stale`,
 * `replay`, `bad_signature`); on success its counter is remembered.
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
  const senderBytes = bytes.slice(5, 37);
  const senderHex = toHex(senderBytes);
  const epoch = toHex(bytes.subarray(37, 45));
  const big = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(45);
  if (big === 0n || big > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new DatagramDropError("malformed", `counter ${big} is out of range`);
  }
  const counter = Number(big);
  const fresh = options.guard.check(senderHex, epoch, counter);
  if (fresh === "stale") throw new DatagramDropError("stale", "epoch replaced by a newer one of this sender");
  if (fresh === "replay") throw new DatagramDropError("replay", "counter seen before or too old");
  const sigAt = end - SIGNATURE_LENGTH;
  if (!verifyDomain(senderBytes, DATAGRAM_DOMAIN, bytes.subarray(0, sigAt), bytes.subarray(sigAt, end))) {
    throw new DatagramDropError("bad_signature", "signature does not verify");
  }
  options.guard.accept(senderHex, epoch, counter);
  return { sender: new NodeId(senderBytes), epoch, counter, body: bytes.slice(HEADER_LENGTH, sigAt) };
}

/**
 * `NodeId`: a node's identity, its 32-byte Ed25519 public key.
 *
 * @module
 */
import { compare, equals, toBase32, toHex } from "../util/bytes.ts";
import { WireError } from "../wire/errors.ts";
import { assertUsablePublicKey, decodeDidKey, DidError, encodeDidKey } from "./did.ts";
import { PUBLIC_KEY_LENGTH } from "./ed25519.ts";

/**
 * A node id: the node's Ed25519 public key, with its text forms.
 *
 * @example
 * ```ts
 * import { NodeId } from "./node-id.ts";
 * const id = NodeId.fromDid("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp");
 * id.toString(); // the same did:key
 * id.short;      // a short base32 prefix for logs
 * ```
 */
export class NodeId {
  /** The 32-byte Ed25519 public key. Do not mutate. */
  readonly bytes: Uint8Array;
  /** Lowercase hex of the key, usable as a map key. */
  readonly hex: string;
  #did?: string;

  /**
   * The id of the 32-byte Ed25519 `publicKey`; throws `DidError` for any
   * other length and for a weak key (small-order or non-canonical point, see
   * `assertUsablePublicKey`).
   */
  constructor(publicKey: Uint8Array) {
    if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_LENGTH) {
      throw new DidError(`a node id is a ${PUBLIC_KEY_LENGTH}-byte Ed25519 public key`);
    }
    assertUsablePublicKey(publicKey);
    this.bytes = Uint8Array.from(publicKey);
    this.hex = toHex(this.bytes);
  }

  /** Parse a `did:key` string. Throws `DidError` on bad input. */
  static fromDid(did: string): NodeId {
    return new NodeId(decodeDidKey(did));
  }

  /** The `did:key:z6Mk…` form. */
  get did(): string {
    return this.#did ??= encodeDidKey(this.bytes);
  }

  /** A short base32 prefix for logs (not unique; never use it as a key). */
  get short(): string {
    return toBase32(this.bytes.subarray(0, 5));
  }

  /** Same key? */
  equals(other: NodeId): boolean {
    return equals(this.bytes, other.bytes);
  }

  /** Byte-wise order, used for deterministic tie-breaks. */
  compare(other: NodeId): number {
    return compare(this.bytes, other.bytes);
  }

  /** The `did:key` form. */
  toString(): string {
    return this.did;
  }

  /** Serialises as the `did:key` string. */
  toJSON(): string {
    return this.did;
  }
}

/**
 * The id of the 32-byte key `bytes` read from the network message
 * `messageType`. Throws `WireError` (`E_WIRE_INVALID`) where the
 * constructor throws `DidError`: a wrong length or a weak key.
 *
 * @example
 * ```ts
 * import { nodeIdFromWire } from "./node-id.ts";
 * nodeIdFromWire(new Uint8Array(32), "value record"); // throws WireError: a small-order key
 * ```
 */
export function nodeIdFromWire(bytes: Uint8Array, messageType: string): NodeId {
  try {
    return new NodeId(bytes);
  } catch (error) {
    if (!(error instanceof DidError)) throw error;
    throw new WireError("E_WIRE_INVALID", messageType, error.message, { cause: error });
  }
}

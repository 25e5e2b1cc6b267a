/**
 * The cluster key: HMAC-SHA256 keyed by a hash of the shared cluster
 * secret. Datagrams of a secret cluster carry `HMAC(key, datagram)`.
 *
 * @module
 */
import { hmacSha256, sha256, timingSafeEqual } from "../crypto/mod.ts";
import { utf8 } from "../util/bytes.ts";

/** Length of a MAC, bytes. */
export const MAC_LENGTH = 32;

const KEY_DOMAIN = "macula-cluster-key/1\0";

/**
 * A cluster secret turned into an HMAC-SHA256 key.
 *
 * @example
 * ```ts
 * import { ClusterKey } from "./hmac.ts";
 * const key = ClusterKey.fromSecret("correct horse battery staple");
 * const data = new TextEncoder().encode("hello");
 * key.verify(data, key.mac(data)); // true
 * ```
 */
export class ClusterKey {
  readonly #key: Uint8Array;

  private constructor(key: Uint8Array) {
    this.#key = key;
  }

  /** Derive the key from a secret (any length; SHA-256 with a domain prefix). */
  static fromSecret(secret: string): ClusterKey {
    return new ClusterKey(sha256(utf8(KEY_DOMAIN + secret)));
  }

  /** HMAC-SHA256 of `data` (32 bytes). */
  mac(data: Uint8Array): Uint8Array {
    return hmacSha256(this.#key, data);
  }

  /** Does `mac` authenticate `data`? Constant time in the MAC bytes. */
  verify(data: Uint8Array, mac: Uint8Array): boolean {
    if (mac.length !== MAC_LENGTH) return false;
    return timingSafeEqual(this.mac(data), mac);
  }
}

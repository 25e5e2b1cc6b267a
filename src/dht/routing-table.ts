/**
 * The Kademlia routing table: 256 buckets of up to k contacts each, least
 * recently seen first. A full bucket keeps its old contacts while they
 * answer (ping-before-evict); newcomers wait in a replacement cache and take
 * the place of a contact that fails.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import { commonPrefixLength, dhtId, KEY_BITS, sortByDistance } from "./keys.ts";

/** A node in the routing table. */
export interface Contact {
  id: NodeId;
  /** Its DHT id. */
  key: Uint8Array;
  /** Last time it answered or contacted us (ms since epoch). */
  lastSeen: number;
}

interface Bucket {
  contacts: Contact[];
  replacements: Contact[];
  touched: number;
  pinging: boolean;
}

/** Options of a routing table. */
export interface RoutingTableOptions {
  /** Bucket size. Default 20. */
  k?: number;
  /** Liveness check of the least recently seen contact of a full bucket. */
  ping: (contact: Contact) => Promise<boolean>;
}

/**
 * A Kademlia routing table.
 *
 * @example
 * ```ts
 * import { RoutingTable } from "./routing-table.ts";
 * import { NodeId } from "../identity/node-id.ts";
 * declare const self: NodeId, other: NodeId;
 * const table = new RoutingTable(self, { ping: async () => true });
 * table.add(other);
 * table.closest(table.selfKey, 20);
 * ```
 */
export class RoutingTable {
  /** Our own DHT id. */
  readonly selfKey: Uint8Array;
  /** Bucket size. */
  readonly k: number;
  #self: NodeId;
  #ping: (contact: Contact) => Promise<boolean>;
  #buckets: Bucket[];
  #index = new Map<string, Contact>();

  constructor(self: NodeId, options: RoutingTableOptions) {
    this.#self = self;
    this.selfKey = dhtId(self);
    this.k = options.k ?? 20;
    this.#ping = options.ping;
    const now = Date.now();
    this.#buckets = Array.from(
      { length: KEY_BITS },
      () => ({ contacts: [], replacements: [], touched: now, pinging: false }),
    );
  }

  /** Contacts in the table. */
  get size(): number {
    return this.#index.size;
  }

  /** Is `id` in the table? */
  has(id: NodeId): boolean {
    return this.#index.has(id.hex);
  }

  /** Every contact. */
  contacts(): Contact[] {
    return [...this.#index.values()];
  }

  #bucketOf(key: Uint8Array): Bucket {
    return this.#buckets[Math.min(KEY_BITS - 1, commonPrefixLength(this.selfKey, key))];
  }

  /**
   * Note that `id` is alive. Returns true if it is (now) in the table;
   * false if it waits in a full bucket's replacement cache.
   */
  add(id: NodeId): boolean {
    if (id.equals(this.#self)) return false;
    const now = Date.now();
    const existing = this.#index.get(id.hex);
    if (existing) {
      const bucket = this.#bucketOf(existing.key);
      existing.lastSeen = now;
      bucket.contacts.splice(bucket.contacts.indexOf(existing), 1);
      bucket.contacts.push(existing);
      bucket.touched = now;
      return true;
    }
    const contact: Contact = { id, key: dhtId(id), lastSeen: now };
    const bucket = this.#bucketOf(contact.key);
    bucket.touched = now;
    if (bucket.contacts.length < this.k) {
      bucket.contacts.push(contact);
      this.#index.set(id.hex, contact);
      return true;
    }
    bucket.replacements = bucket.replacements.filter((c) => !c.id.equals(id));
    bucket.replacements.push(contact);
    if (bucket.replacements.length > this.k) bucket.replacements.shift();
    this.#checkOldest(bucket);
    return false;
  }

  #checkOldest(bucket: Bucket): void {
    if (bucket.pinging || bucket.contacts.length === 0) return;
    bucket.pinging = true;
    const oldest = bucket.contacts[0];
    this.#ping(oldest).catch(() => false).then((alive) => {
      bucket.pinging = false;
      // The contact may have been removed (and even re-added as a new entry) meanwhile.
      if (this.#index.get(oldest.id.hex) !== oldest) return;
      if (alive) {
        oldest.lastSeen = Date.now();
        const at = bucket.contacts.indexOf(oldest);
        if (at >= 0) bucket.contacts.splice(at, 1);
        bucket.contacts.push(oldest);
      } else {
        this.remove(oldest.id);
      }
    });
  }

  /** Drop `id` (it failed); a replacement takes its place. */
  remove(id: NodeId): void {
    const contact = this.#index.get(id.hex);
    if (!contact) return;
    this.#index.delete(id.hex);
    const bucket = this.#bucketOf(contact.key);
    const at = bucket.contacts.indexOf(contact);
    if (at >= 0) bucket.contacts.splice(at, 1);
    const replacement = bucket.replacements.pop();
    if (replacement) {
      bucket.contacts.push(replacement);
      this.#index.set(replacement.id.hex, replacement);
    }
  }

  /** The `n` contacts closest to `target`. */
  closest(target: Uint8Array, n: number = this.k, exclude?: (c: Contact) => boolean): Contact[] {
    const all = exclude ? this.contacts().filter((c) => !exclude(c)) : this.contacts();
    return sortByDistance(target, all, (c) => c.key).slice(0, n);
  }

  /**
   * Indices of buckets not touched since `cutoff`, up to the deepest
   * non-empty bucket (farther buckets are empty ranges nobody lives in).
   */
  staleBuckets(cutoff: number): number[] {
    let deepest = -1;
    for (let i = 0; i < KEY_BITS; i++) if (this.#buckets[i].contacts.length > 0) deepest = i;
    const out: number[] = [];
    for (let i = 0; i <= Math.min(deepest, KEY_BITS - 1); i++) {
      if (this.#buckets[i].touched < cutoff) out.push(i);
    }
    return out;
  }

  /** Mark bucket `index` refreshed (a lookup into its range ran). */
  touch(index: number): void {
    this.#buckets[index].touched = Date.now();
  }
}

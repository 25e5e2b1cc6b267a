/**
 * Records this node holds for the DHT, with limits per key, per peer and
 * overall, and expiry. Records are verified before they get here.
 *
 * @module
 */
import { toHex } from "../util/bytes.ts";
import type { ProviderRecord, ValueRecord } from "./records.ts";
import { valueKey } from "./records.ts";

/** Limits of the records a node holds for others in one realm; a record beyond them is not stored. */
export interface StoreLimits {
  /** Providers kept per key. Default 64. */
  providersPerKey?: number;
  /** Records (providers + values) kept per publishing peer. Default 256. */
  recordsPerPeer?: number;
  /** Keys with providers, overall. Default 20 000. */
  providerKeys?: number;
  /** Value records, overall. Default 20 000. */
  values?: number;
}

/** Why a record was not stored. */
export type StoreRejection = "expired" | "stale" | "key-full" | "peer-full" | "store-full";

/**
 * The record store of one realm.
 *
 * @example
 * ```ts
 * import { RecordStore } from "./record-store.ts";
 * const store = new RecordStore({ providersPerKey: 20 });
 * ```
 */
export class RecordStore {
  #providers = new Map<string, Map<string, ProviderRecord>>();
  #values = new Map<string, ValueRecord>();
  #perPeer = new Map<string, number>();
  #limits: Required<StoreLimits>;

  constructor(limits: StoreLimits = {}) {
    this.#limits = { providersPerKey: 64, recordsPerPeer: 256, providerKeys: 20_000, values: 20_000, ...limits };
  }

  #count(peerHex: string, delta: number): void {
    const n = (this.#perPeer.get(peerHex) ?? 0) + delta;
    if (n <= 0) this.#perPeer.delete(peerHex);
    else this.#perPeer.set(peerHex, n);
  }

  /** Store a provider record; returns a rejection reason or `null` when stored. */
  addProvider(record: ProviderRecord, now: number = Date.now()): StoreRejection | null {
    if (record.expires <= now) return "expired";
    const keyHex = toHex(record.key);
    const peer = record.provider.id.hex;
    let byPeer = this.#providers.get(keyHex);
    const existing = byPeer?.get(peer);
    if (existing) {
      if (existing.expires > record.expires && existing.provider.seq >= record.provider.seq) return "stale";
      byPeer!.set(peer, record);
      return null;
    }
    if ((this.#perPeer.get(peer) ?? 0) >= this.#limits.recordsPerPeer) return "peer-full";
    if (!byPeer) {
      if (this.#providers.size >= this.#limits.providerKeys) return "store-full";
      this.#providers.set(keyHex, byPeer = new Map());
    }
    if (byPeer.size >= this.#limits.providersPerKey) return "key-full";
    byPeer.set(peer, record);
    this.#count(peer, 1);
    return null;
  }

  /** Drop `peerHex`'s provider record for `key`, if held. */
  removeProvider(key: Uint8Array, peerHex: string): void {
    const keyHex = toHex(key);
    const byPeer = this.#providers.get(keyHex);
    if (!byPeer?.delete(peerHex)) return;
    this.#count(peerHex, -1);
    if (byPeer.size === 0) this.#providers.delete(keyHex);
  }

  /** Live providers of `key`. */
  providers(key: Uint8Array, now: number = Date.now()): ProviderRecord[] {
    const byPeer = this.#providers.get(toHex(key));
    return byPeer ? [...byPeer.values()].filter((r) => r.expires > now) : [];
  }

  /** Store a value record (must be newer than the one held). */
  putValue(record: ValueRecord, now: number = Date.now()): StoreRejection | null {
    if (record.expires <= now) return "expired";
    const keyHex = toHex(valueKey(record.realm, record.publisher, record.name));
    const existing = this.#values.get(keyHex);
    const peer = record.publisher.hex;
    if (existing) {
      if (existing.seq >= record.seq) return "stale";
      this.#values.set(keyHex, record);
      return null;
    }
    if ((this.#perPeer.get(peer) ?? 0) >= this.#limits.recordsPerPeer) return "peer-full";
    if (this.#values.size >= this.#limits.values) return "store-full";
    this.#values.set(keyHex, record);
    this.#count(peer, 1);
    return null;
  }

  /** The live value stored under `key`. */
  value(key: Uint8Array, now: number = Date.now()): ValueRecord | undefined {
    const v = this.#values.get(toHex(key));
    return v && v.expires > now ? v : undefined;
  }

  /** Drop expired records. */
  sweep(now: number = Date.now()): void {
    for (const [keyHex, byPeer] of this.#providers) {
      for (const [peer, r] of byPeer) {
        if (r.expires <= now) {
          byPeer.delete(peer);
          this.#count(peer, -1);
        }
      }
      if (byPeer.size === 0) this.#providers.delete(keyHex);
    }
    for (const [keyHex, v] of this.#values) {
      if (v.expires <= now) {
        this.#values.delete(keyHex);
        this.#count(v.publisher.hex, -1);
      }
    }
  }

  /** Counts, for status and metrics. */
  stats(): { providerKeys: number; providers: number; values: number } {
    let providers = 0;
    for (const m of this.#providers.values()) providers += m.size;
    return { providerKeys: this.#providers.size, providers, values: this.#values.size };
  }
}

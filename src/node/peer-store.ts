/**
 * What the node knows about other nodes: addresses, latest signed record,
 * latency, and when it last heard from them. Bounded: the least recently
 * seen unpinned entries are evicted first.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { NodeRecord } from "../identity/node-record.ts";
import { addressKey, parseAddress, type PeerAddress } from "../transport/address.ts";
import { ObservedAddresses } from "./observed-addresses.ts";

/** One known peer. */
export interface PeerEntry {
  id: NodeId;
  /** Addresses learned outside records (seeds, dials), newest first; each carries `id`. */
  addrs: PeerAddress[];
  /** Addresses from the latest record. */
  recordAddrs: PeerAddress[];
  /** Latest verified record, if any. */
  record?: NodeRecord;
  /** Last measured round-trip time, ms. */
  rtt?: number;
  /** Last time we heard from or about the peer (ms since epoch). */
  lastSeen: number;
}

function sameAddress(a: PeerAddress, b: PeerAddress): boolean {
  return addressKey(a) === addressKey(b);
}

/**
 * The peer store.
 *
 * @example
 * ```ts
 * import { PeerStore } from "./peer-store.ts";
 * const store = new PeerStore();
 * // store.addAddresses(id, [parseAddress("quic://10.0.0.2:9443")]);
 * ```
 */
export class PeerStore {
  /** The addresses peers reported seeing this node at (identify), newest first. */
  readonly observed: ObservedAddresses = new ObservedAddresses();
  #peers = new Map<string, PeerEntry>();
  #max: number;
  #isPinned: (id: NodeId) => boolean;

  constructor(options: { maxPeers?: number; isPinned?: (id: NodeId) => boolean } = {}) {
    this.#max = options.maxPeers ?? 10_000;
    this.#isPinned = options.isPinned ?? (() => false);
  }

  /** Number of known peers. */
  get size(): number {
    return this.#peers.size;
  }

  #entry(id: NodeId): PeerEntry {
    let entry = this.#peers.get(id.hex);
    if (!entry) {
      entry = { id, addrs: [], recordAddrs: [], lastSeen: Date.now() };
      this.#peers.set(id.hex, entry);
      this.#evict();
    }
    return entry;
  }

  #evict(): void {
    if (this.#peers.size <= this.#max) return;
    let oldest: PeerEntry | undefined;
    for (const e of this.#peers.values()) {
      if (this.#isPinned(e.id)) continue;
      if (!oldest || e.lastSeen < oldest.lastSeen) oldest = e;
    }
    if (oldest) this.#peers.delete(oldest.id.hex);
  }

  /** Entry of `id`, if known. */
  get(id: NodeId): PeerEntry | undefined {
    return this.#peers.get(id.hex);
  }

  /** Add addresses of `id` (duplicates ignored, newest first). */
  addAddresses(id: NodeId, addrs: PeerAddress[]): void {
    const entry = this.#entry(id);
    for (const a of addrs) {
      if (a.type === "relayed" && !a.id.equals(id)) continue;
      const addr = { ...a, id };
      entry.addrs = [addr, ...entry.addrs.filter((x) => !sameAddress(x, addr))].slice(0, 32);
    }
  }

  /**
   * Store a verified record if it is newer than the one held; its addresses
   * replace those of the previous record (addresses learned otherwise are
   * kept). Returns true if stored.
   */
  upsertRecord(record: NodeRecord): boolean {
    const entry = this.#entry(record.id);
    if (entry.record && entry.record.seq >= record.seq) return false;
    entry.record = record;
    const parsed: PeerAddress[] = [];
    for (const text of record.addrs) {
      try {
        const a = parseAddress(text);
        // A relayed address names its target: it must be the record's node.
        if (a.type === "relayed" && !a.id.equals(record.id)) continue;
        parsed.push({ ...a, id: record.id });
      } catch {
        // skip unusable addresses from the record
      }
    }
    entry.recordAddrs = parsed;
    entry.lastSeen = Date.now();
    return true;
  }

  /** Addresses of `id` (record and learned, deduplicated), best first: QUIC, TCP, others, relayed last. */
  addresses(id: NodeId): PeerAddress[] {
    const entry = this.#peers.get(id.hex);
    if (!entry) return [];
    const all: PeerAddress[] = [];
    for (const a of [...entry.recordAddrs, ...entry.addrs]) {
      if (!all.some((x) => sameAddress(x, a))) all.push(a);
    }
    const rank = (a: PeerAddress) => a.type === "relayed" ? 3 : a.kind === "quic" ? 0 : a.kind === "tcp" ? 1 : 2;
    return all.sort((a, b) => rank(a) - rank(b));
  }

  /** Record a latency measurement. */
  setRtt(id: NodeId, rtt: number): void {
    const entry = this.#entry(id);
    entry.rtt = rtt;
    entry.lastSeen = Date.now();
  }

  /** Note that we heard from `id` now. */
  touch(id: NodeId): void {
    this.#entry(id).lastSeen = Date.now();
  }

  /** Every known peer. */
  all(): PeerEntry[] {
    return [...this.#peers.values()];
  }

  /** Forget `id`. */
  delete(id: NodeId): void {
    this.#peers.delete(id.hex);
  }
}

/**
 * A node's own addresses and signed record: the announced addresses (the
 * listen addresses resolved against the network interfaces, re-read at
 * most every 10 s) and the node record, re-signed when they change or the
 * record nears its expiry.
 *
 * @module
 */
import type { KeyPair } from "../identity/ed25519.ts";
import { createNodeRecord, type NodeRecord, RECORD_LIMITS } from "../identity/node-record.ts";
import type { Platform } from "../platform/types.ts";
import { formatAddress, type PeerAddress } from "../transport/address.ts";
import type { Transport } from "../transport/transport.ts";
import { announceAddresses } from "./addresses.ts";

/** What a node's record is made of. */
export interface SelfRecordOptions {
  /** The node's identity (signs the record). */
  keyPair: KeyPair;
  /** The platform (its network interfaces). */
  platform: Platform;
  /** The listening transports. */
  transports: readonly Transport[];
  /** The node's realms, the primary first. */
  realms: string[];
  /** The node's roles. */
  roles: string[];
}

/**
 * The addresses and signed record of the local node.
 *
 * @example
 * ```ts
 * import { SelfRecord } from "./self-record.ts";
 * declare const options: import("./self-record.ts").SelfRecordOptions;
 * const self = new SelfRecord(options);
 * console.log(self.addresses().length, self.current().addrs);
 * ```
 */
export class SelfRecord {
  readonly #o: SelfRecordOptions;
  #record: NodeRecord | null = null;
  #addrCache: { at: number; addrs: PeerAddress[] } | null = null;
  #recordAddrs = "";
  /** Addresses services add (relayed addresses, a confirmed public address), by owner. */
  #extra = new Map<string, PeerAddress[]>();

  /** The record of the node described by `options`. */
  constructor(options: SelfRecordOptions) {
    this.#o = options;
  }

  /** The addresses the node announces (without its id). */
  addresses(): PeerAddress[] {
    // Interface addresses change rarely (DHCP, Wi-Fi); re-read them at most every 10 s.
    const now = Date.now();
    if (!this.#addrCache || now - this.#addrCache.at > 10_000) {
      const listen = this.#o.transports.flatMap((t) => t.listenAddresses);
      this.#addrCache = { at: now, addrs: announceAddresses(listen, this.#o.platform.process.interfaces()) };
    }
    const extra = [...this.#extra.values()].flat();
    if (extra.length === 0) return this.#addrCache.addrs;
    const seen = new Set<string>();
    const all: PeerAddress[] = [];
    for (const a of [...extra, ...this.#addrCache.addrs]) {
      const key = formatAddress(a);
      if (!seen.has(key)) seen.add(key), all.push(a);
    }
    return all.slice(0, RECORD_LIMITS.addrs);
  }

  /**
   * Set the addresses `owner` (a service) adds to the record, replacing what
   * it set before (`[]` removes them). They come first: a confirmed public
   * or relayed address is what other sites can dial. At most
   * `RECORD_LIMITS.addrs` addresses are announced in all.
   */
  setExtra(owner: string, addresses: readonly PeerAddress[]): void {
    if (addresses.length === 0) this.#extra.delete(owner);
    else this.#extra.set(owner, [...addresses]);
  }

  /** The node's current signed record (re-signed when addresses change). */
  current(): NodeRecord {
    const addrs = this.addresses().map((a) => formatAddress(a));
    const key = addrs.join(" ");
    if (!this.#record || key !== this.#recordAddrs || this.#record.expires - Date.now() < 600_000) {
      this.#record = createNodeRecord(this.#o.keyPair, { addrs, realms: this.#o.realms, roles: this.#o.roles });
      this.#recordAddrs = key;
    }
    return this.#record;
  }
}

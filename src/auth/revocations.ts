/**
 * The revocations a node has accepted, indexed for the checks: which
 * delegation (by CID) was revoked by whom. A revocation applies to a
 * delegation in a chain only when its revoker issued that delegation or a
 * link above it (`isRevoked(cid, issuers)`); anyone may sign one, so the
 * index keeps every revoker of a CID and the chain decides.
 *
 * @module
 */
import type { Logger } from "../log/logger.ts";
import { Invocation, readRevocation } from "../ucan/mod.ts";
import type { RevocationStore } from "./revocation-store.ts";

/** What accepting a revocation did. */
export interface Accepted {
  /** The revoked delegation's CID. */
  cid: string;
  /** Who signed the revocation. */
  revoker: string;
  /** The revocation invocation's id. */
  id: string;
  /** `false` when it was known already. */
  added: boolean;
}

/**
 * The accepted revocations, backed by a store.
 *
 * @example
 * ```ts
 * import { RevocationIndex } from "./revocations.ts";
 * import { MemoryRevocationStore } from "./revocation-store.ts";
 * const index = new RevocationIndex(new MemoryRevocationStore());
 * await index.open();
 * index.isRevoked("bafy…", ["did:key:z6Mk…"]); // false
 * ```
 */
export class RevocationIndex {
  readonly #store: RevocationStore;
  /** Hears of stored entries that do not check out. */
  log?: Logger;
  readonly #revokers = new Map<string, Set<string>>();
  /** The exact bytes of every stored revocation, so that a known one is not decoded again. */
  readonly #seen = new Set<string>();
  #skipped = 0;

  /** An index over `store`; `log` hears of stored entries that do not check out. */
  constructor(store: RevocationStore, log?: Logger) {
    this.#store = store;
    this.log = log;
  }

  /** The store. */
  get store(): RevocationStore {
    return this.#store;
  }

  /** Open the store and index what it holds (entries that are not valid revocations are skipped and counted). */
  async open(): Promise<void> {
    await this.#store.open();
    for (const bytes of this.#store.all()) {
      try {
        const inv = Invocation.decode(bytes);
        const { cid, revoker } = readRevocation(inv);
        this.#index(cid, revoker);
        this.#seen.add(bytesKey(bytes));
      } catch (error) {
        this.#skipped++;
        this.log?.warn("skipping a stored revocation that does not check out", { error: (error as Error).message });
      }
    }
  }

  /** Stored entries that are unreadable (the store's count) or not valid revocations. */
  get corrupt(): number {
    return this.#store.corrupt + this.#skipped;
  }

  /** How many revocations are stored. */
  get size(): number {
    return this.#store.size;
  }

  /** Whether exactly these bytes are a stored revocation (no decoding). */
  known(bytes: Uint8Array): boolean {
    return this.#seen.has(bytesKey(bytes));
  }

  /**
   * Check `bytes` (signature, `/ucan/revoke`, the CID argument) and store
   * it; throws a `UcanError` when it is not a valid revocation.
   */
  async accept(bytes: Uint8Array): Promise<Accepted> {
    const inv = Invocation.decode(bytes);
    const { cid, revoker } = readRevocation(inv);
    const added = await this.#store.add(inv.id, inv.bytes);
    if (added) {
      this.#index(cid, revoker);
      this.#seen.add(bytesKey(inv.bytes));
    }
    return { cid, revoker, id: inv.id, added };
  }

  /** Whether the delegation `cid` is revoked by one of `issuers` (its issuer and those above it). */
  isRevoked(cid: string, issuers: readonly string[]): boolean {
    const revokers = this.#revokers.get(cid);
    if (!revokers) return false;
    for (const issuer of issuers) if (revokers.has(issuer)) return true;
    return false;
  }

  /** Whether anyone revoked `cid` (applying or not). */
  mentions(cid: string): boolean {
    return this.#revokers.has(cid);
  }

  /** Every stored revocation's bytes, oldest first. */
  all(): readonly Uint8Array[] {
    return this.#store.all();
  }

  #index(cid: string, revoker: string): void {
    let set = this.#revokers.get(cid);
    if (!set) this.#revokers.set(cid, set = new Set());
    set.add(revoker);
  }
}

/** A map key holding `bytes` exactly (one UTF-16 unit per byte). */
function bytesKey(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 4096) out += String.fromCharCode(...bytes.subarray(i, i + 4096));
  return out;
}

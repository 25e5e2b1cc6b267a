/**
 * The chains of other nodes, pulled over `/macula/auth/1` on first need,
 * verified here (signatures, linkage, audience = the subject, roots, time,
 * revocations) and cached per subject. One pull per subject at a time
 * (single flight); a subject found with nothing usable is asked again only
 * after `repullAfter` ms, never once per message.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { Logger } from "../log/logger.ts";
import { Delegation, type VerifiedChain } from "../ucan/mod.ts";
import type { PullOutcome } from "./auth-metrics.ts";

/** How long a pull that found nothing usable stands before the subject is asked again, ms. */
export const REPULL_AFTER = 5_000;

/** What is known of one subject. */
export interface SubjectProofs {
  /** The subject. */
  subject: NodeId;
  /** Its verified chains (may be empty). */
  chains: VerifiedChain[];
  /** When they were pulled (`performance.now()`), or `-Infinity` before the first pull ended. */
  pulledAt: number;
  /** The pull under way, if any. */
  pending?: Promise<SubjectProofs>;
}

/** What `PeerProofs` needs. */
export interface PeerProofsOptions {
  /** Ask `from` for the chains of `subject` (its own when `from` is the subject). */
  fetch(from: NodeId, subject: NodeId): Promise<Uint8Array[][]>;
  /** Verify a decoded chain for `audience`; throws when it is not valid. */
  verify(chain: readonly Delegation[], audience: string): VerifiedChain;
  /** Hears how each pull ended. */
  onPull?(subject: NodeId, outcome: PullOutcome): void;
  /** Logger for chains that fail to verify. */
  log?: Logger;
  /** Most subjects remembered. Default 4096. */
  maxSubjects?: number;
  /** See `REPULL_AFTER`. */
  repullAfter?: number;
}

/**
 * The cache of other nodes' chains.
 *
 * @example
 * ```ts
 * import { PeerProofs } from "./peer-proofs.ts";
 * import { verifyChain } from "../ucan/mod.ts";
 * declare const client: import("./exchange.ts").AuthClient;
 * declare const peer: import("../identity/node-id.ts").NodeId;
 * const proofs = new PeerProofs({
 *   fetch: async (from, subject) => (await client.proofs(from, { subject: from.equals(subject) ? undefined : subject })).chains,
 *   verify: (chain, audience) => verifyChain(chain, { audience }),
 * });
 * const known = await proofs.pull(peer);
 * console.log(known.chains.length);
 * ```
 */
export class PeerProofs {
  readonly #o: PeerProofsOptions;
  readonly #subjects = new Map<string, SubjectProofs>();
  readonly #maxSubjects: number;
  readonly #repullAfter: number;

  /** A cache working with `options`. */
  constructor(options: PeerProofsOptions) {
    this.#o = options;
    this.#maxSubjects = options.maxSubjects ?? 4096;
    this.#repullAfter = options.repullAfter ?? REPULL_AFTER;
  }

  /** What is known of `subject` (by hex id). */
  get(subject: string): SubjectProofs | undefined {
    return this.#subjects.get(subject);
  }

  /** Whether a pull of `entry`'s subject that found nothing is old enough to be repeated. */
  stale(entry: SubjectProofs): boolean {
    return performance.now() - entry.pulledAt >= this.#repullAfter;
  }

  /**
   * Pull `subject`'s chains (joining a pull under way): from the subject
   * itself, then — if it cannot be asked, or has nothing usable — from
   * `via` (the node that handed its message over), whose answer is
   * verified just the same.
   */
  pull(subject: NodeId, via?: NodeId): Promise<SubjectProofs> {
    let entry = this.#subjects.get(subject.hex);
    if (entry?.pending) return entry.pending;
    if (!entry) {
      if (this.#subjects.size >= this.#maxSubjects) this.#evict();
      entry = { subject, chains: [], pulledAt: -Infinity };
      this.#subjects.set(subject.hex, entry);
    }
    const target = entry;
    const pending = this.#pullFrom(subject, via).then((chains) => {
      target.chains = chains;
      target.pulledAt = performance.now();
      target.pending = undefined;
      return target;
    });
    target.pending = pending;
    return pending;
  }

  async #pullFrom(subject: NodeId, via?: NodeId): Promise<VerifiedChain[]> {
    let outcome: PullOutcome = "failed";
    let chains: VerifiedChain[] = [];
    try {
      chains = this.#check(subject, await this.#o.fetch(subject, subject));
      outcome = chains.length ? "ok" : "none";
    } catch (error) {
      this.#o.log?.debug("pulling proofs failed", { subject: subject.short, error: (error as Error).message });
    }
    if (chains.length === 0 && via && !via.equals(subject)) {
      try {
        chains = this.#check(subject, await this.#o.fetch(via, subject));
        outcome = chains.length ? "ok" : outcome === "failed" ? "failed" : "none";
      } catch (error) {
        this.#o.log?.debug("pulling proofs through the forwarder failed", {
          subject: subject.short,
          via: via.short,
          error: (error as Error).message,
        });
      }
    }
    this.#o.onPull?.(subject, outcome);
    return chains;
  }

  /** The chains of `raw` that decode and verify for `subject`. */
  #check(subject: NodeId, raw: Uint8Array[][]): VerifiedChain[] {
    const out: VerifiedChain[] = [];
    for (const tokens of raw) {
      try {
        out.push(this.#o.verify(tokens.map((t) => Delegation.decode(t)), subject.did));
      } catch (error) {
        this.#o.log?.debug("a pulled chain does not verify", {
          subject: subject.short,
          error: (error as Error).message,
        });
      }
    }
    return out;
  }

  /** Keep only the chains `keep` accepts (after a revocation); returns the subjects that lost some. */
  prune(keep: (chain: VerifiedChain) => boolean): string[] {
    const changed: string[] = [];
    for (const [hex, entry] of this.#subjects) {
      const kept = entry.chains.filter(keep);
      if (kept.length !== entry.chains.length) {
        entry.chains = kept;
        changed.push(hex);
      }
    }
    return changed;
  }

  /** Forget `subject` (it is asked again on next need). */
  forget(subject: string): void {
    if (!this.#subjects.get(subject)?.pending) this.#subjects.delete(subject);
  }

  /** Subjects known, with their chains. */
  entries(): IterableIterator<[string, SubjectProofs]> {
    return this.#subjects.entries();
  }

  /** How many subjects are known. */
  get size(): number {
    return this.#subjects.size;
  }

  #evict(): void {
    for (const [hex, entry] of this.#subjects) {
      if (!entry.pending) {
        this.#subjects.delete(hex);
        return;
      }
    }
  }
}

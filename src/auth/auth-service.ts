/**
 * The capability service (`"auth"`): closed realms, proof exchange,
 * per-operation decisions and revocation.
 *
 * In an open realm (the default) every operation is admitted, as in a mesh
 * without authorization. In a closed realm everything is denied unless the
 * subject — the node the operation comes from, proven by the transport; the
 * origin for a forwarded pub/sub message — holds a valid UCAN chain rooted
 * at one of the realm's authorities, ending at the subject, covering the
 * operation's command and arguments (`src/auth/commands.ts`). Exceptions:
 * streams of `/macula/…` protocols (their operations are decided one by
 * one), the revocation topic, and subscriptions to public topics by any
 * realm member.
 *
 * A subject's chains are pulled from it over `/macula/auth/1` on first need
 * (or, for a forwarded message, from the forwarder), verified here and
 * cached; each decision is then cached until the chains expire or a
 * revocation arrives, so a repeated operation is decided synchronously.
 * Revocations are stored (a file under the data dir), gossiped by the
 * `auth-gossip` service and exchanged with every peer on connect.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { Authorize, Operation } from "../node/authorize.ts";
import { type NodeService, type ServiceHost, type ServiceKey, serviceKey } from "../node/service.ts";
import { type Delegation, type Invocation, type VerifiedChain, verifyChain } from "../ucan/mod.ts";
import { Emitter } from "../util/events.ts";
import { AuthMetrics } from "./auth-metrics.ts";
import { AuthClock } from "./clock.ts";
import { DecisionCache } from "./decision-cache.ts";
import { evaluate, isChainRevoked, type Verdict } from "./evaluate.ts";
import { AuthClient, catchUp, serveAuth } from "./exchange.ts";
import { PeerProofs, REPULL_AFTER, type SubjectProofs } from "./peer-proofs.ts";
import { type RealmAuth, type RealmPolicy, RealmTrust } from "./realms.ts";
import { MemoryRevocationStore } from "./revocation-store.ts";
import { RevocationIndex } from "./revocations.ts";
import { authStatus } from "./status.ts";
import type { AuthEvents, AuthOptions } from "./options.ts";
import { REVOCATION_TOPIC } from "./options.ts";

export { type AuthEvents, type AuthOptions, REVOCATION_TOPIC } from "./options.ts";
export type { RealmAuth, RealmPolicy };

/** The key of the auth service, for `node.service(AUTH)` and `needs`. */
export const AUTH: ServiceKey<AuthService> = serviceKey("auth");

/** How long asking a peer for its chains may take, ms. */
const PULL_TIMEOUT = 3_000;

/**
 * The auth service. Its `authorize` is the node-wide hook.
 *
 * @example
 * ```ts
 * import { Node } from "../../mod.ts";
 * declare const authority: string; // did:key of the realm's authority
 * await using node = await Node.start({
 *   realms: ["plant"],
 *   auth: { realms: { plant: { policy: "closed", authorities: [authority] } } },
 * });
 * node.auth.policy("plant"); // "closed"
 * ```
 */
export class AuthService implements NodeService {
  readonly name = "auth";
  /** The node-wide hook: `check` bound to this service. */
  readonly authorize: Authorize;
  readonly #opts: AuthOptions;
  readonly #trust: RealmTrust;
  readonly #index: RevocationIndex;
  readonly #decisions = new DecisionCache();
  readonly #own = new DecisionCache({ maxSubjects: 1, maxPerSubject: 4096 });
  readonly #events = new Emitter<AuthEvents>();
  readonly #skew: number;
  readonly #repull: number;
  #clock: AuthClock;
  #held: VerifiedChain[] = [];
  #host?: ServiceHost;
  #peers?: PeerProofs;
  #client?: AuthClient;
  #metrics?: AuthMetrics;
  #off: Array<() => void> = [];

  /** A service with `options`; throws `AuthConfigError` for a bad realm configuration. */
  constructor(options: AuthOptions = {}) {
    this.#opts = options;
    this.#trust = new RealmTrust(options.realms ?? {});
    this.#index = new RevocationIndex(options.revocations ?? new MemoryRevocationStore());
    this.#skew = options.skew ?? 60;
    this.#repull = options.repullAfter ?? REPULL_AFTER;
    this.#clock = new AuthClock(options.clock);
    this.authorize = (subject, op) => this.check(subject, op);
  }

  async start(host: ServiceHost): Promise<void> {
    this.#host = host;
    this.#trust.self = host.id.did;
    this.#clock = new AuthClock(this.#opts.clock, host.log);
    this.#index.log = host.log;
    await this.#index.open();
    this.#metrics = new AuthMetrics(host.metrics, () => this.#index.size);
    if (this.#index.corrupt) host.log.warn("unreadable revocations skipped", { count: this.#index.corrupt });
    for (const chain of this.#opts.chains ?? []) {
      try {
        this.addChain(chain);
      } catch (error) {
        host.log.warn("ignoring a chain that does not verify", { error: (error as Error).message });
      }
    }
    const client = this.#client = new AuthClient(host);
    this.#peers = new PeerProofs({
      fetch: async (from, subject) => {
        const ask = from.equals(subject) ? {} : { subject };
        return (await client.proofs(from, { ...ask, timeout: PULL_TIMEOUT })).chains;
      },
      verify: (chain, audience) => this.verify(chain, audience),
      onPull: (_subject, outcome) => this.#metrics?.pulled(outcome),
      log: host.log,
      repullAfter: this.#repull,
    });
    this.#off.push(serveAuth(host, {
      ownChains: () => this.#held.map((c) => c.links.map((l) => l.bytes)),
      chainsOf: (subject) => this.#chainsOf(subject),
      revocations: () => this.#index.all(),
    }));
    const guarded = new Set(this.#trust.guardedRealms());
    if (guarded.size > 0) {
      this.#off.push(host.on("peer:identify", (record) => {
        if (!record.realms.some((r) => guarded.has(r))) return;
        catchUp(client, record.id, (bytes) => this.#accept(bytes), host.log);
      }));
    }
  }

  async stop(): Promise<void> {
    for (const off of this.#off.splice(0)) off();
    await this.#index.store.close();
  }

  /** A section for `/status`. */
  status(): Record<string, unknown> {
    return authStatus({
      realms: this.#trust.describe(this.#host?.realms ?? []),
      held: this.#held,
      peers: this.#peers ? [...this.#peers.entries()].map(([, e]) => e) : [],
      revocations: this.#index.size,
      corrupt: this.#index.corrupt,
      clock: this.#clock.trusted,
    });
  }

  /** The policy of `realm` (`"open"` unless configured). */
  policy(realm: string): RealmPolicy {
    return this.#trust.policy(realm);
  }

  /** The authorities of `realm`: as configured, else this node's own did. */
  authorities(realm: string): readonly string[] {
    return this.#trust.authorities(realm);
  }

  /** Realms where revocations are gossiped: the closed ones and those with authorities configured. */
  guardedRealms(): string[] {
    return this.#trust.guardedRealms();
  }

  /**
   * Verify `chain` (root first) for `audience`: rooted at an authority of
   * `realm` (of any realm of the node or configured, when absent), not
   * revoked, current by this service's clock and skew. Throws a `UcanError`.
   */
  verify(chain: readonly Delegation[], audience: string, realm?: string): VerifiedChain {
    return verifyChain(chain, {
      audience,
      roots: this.#trust.roots(realm, this.#host?.realms ?? []),
      now: this.#clock.seconds(),
      skew: this.#skew,
      isRevoked: (cid, issuers) => this.#index.isRevoked(cid, issuers),
    });
  }

  /** Hold `chain` and present it to peers (its last audience must be this node); throws if it does not verify. */
  addChain(chain: readonly Delegation[]): VerifiedChain {
    const verified = this.verify(chain, this.#started().id.did);
    const id = leafId(verified);
    this.#held = [...this.#held.filter((c) => leafId(c) !== id), verified];
    this.#own.invalidate();
    return verified;
  }

  /** Stop holding the chain whose leaf delegation has id `id`. */
  removeChain(id: string): void {
    this.#held = this.#held.filter((c) => leafId(c) !== id);
    this.#own.invalidate();
  }

  /** The chains this node holds. */
  chains(): readonly VerifiedChain[] {
    return this.#held;
  }

  /** Whether this node's own chains cover `op` (for its own operations and apps). */
  holds(op: Operation): boolean {
    const now = this.#clock.ms();
    const hit = this.#own.get("", op, now);
    if (hit !== undefined) return hit;
    const roots = op.realm !== undefined
      ? this.#trust.authoritySet(op.realm)
      : this.#trust.anyClosed
      ? this.#trust.closedRoots()
      : this.#trust.roots(undefined, this.#host?.realms ?? []);
    const verdict = this.#evaluate(this.#held, op, roots);
    this.#own.set("", op, verdict.ok, verdict.ok ? verdict.until : now + this.#repull);
    return verdict.ok;
  }

  /** Decide `op` by `subject` (the node-wide hook). Synchronous when the decision is cached. */
  check(subject: NodeId, op: Operation): boolean | Promise<boolean> {
    const trust = this.#trust;
    if (!trust.anyClosed) return true;
    const realm = op.realm;
    if (realm !== undefined && !trust.closed(realm)) return true;
    if (op.kind === "stream") {
      if (op.name.startsWith("/macula/")) return true;
    } else if (op.name === REVOCATION_TOPIC && (op.kind === "publish" || op.kind === "subscribe")) {
      return true;
    }
    const host = this.#host;
    if (!host) return false;
    if (subject.equals(host.id)) return this.#count(op, this.holds(op));
    const hit = this.#decisions.get(subject.hex, op, this.#clock.ms());
    if (hit !== undefined) return this.#count(op, hit);
    const known = this.#peers!.get(subject.hex);
    if (known && !known.pending && known.pulledAt > -Infinity) {
      const verdict = this.#decide(known, op, false);
      if (verdict !== undefined) return verdict;
    }
    return this.#peers!.pull(subject, op.via).then((entry) => this.#decide(entry, op, true)!);
  }

  /**
   * Revoke a delegation: check `revocation` (a signed `/ucan/revoke`
   * invocation), store it durably, apply it, gossip it. Idempotent. Throws
   * a `UcanError` for an invalid revocation.
   */
  async revoke(revocation: Invocation): Promise<void> {
    if (await this.#accept(revocation.bytes)) this.#events.emit("revocation", revocation.bytes);
  }

  /** Take a revocation from a peer (gossip): checked, stored, applied; `false` if known. Throws a `UcanError`. */
  receiveRevocation(bytes: Uint8Array): Promise<boolean> {
    return this.#accept(bytes);
  }

  /** Whether delegation `cid` is revoked by one of `issuers` (its issuer and those above it). */
  isRevoked(cid: string, issuers: readonly string[]): boolean {
    return this.#index.isRevoked(cid, issuers);
  }

  /** Listen to an event; returns the unsubscribe function. */
  on<K extends keyof AuthEvents>(event: K, listener: (...args: AuthEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  #started(): ServiceHost {
    if (!this.#host) throw new Error("the auth service has not started");
    return this.#host;
  }

  #count(op: Operation, ok: boolean): boolean {
    this.#metrics?.decided(op.kind, op.realm ?? "", ok);
    return ok;
  }

  /** The verdict from `entry`'s chains, cached; `undefined` when a refusal is stale (pull again first). */
  #decide(entry: SubjectProofs, op: Operation, final: boolean): boolean | undefined {
    const roots = op.realm !== undefined ? this.#trust.authoritySet(op.realm) : this.#trust.closedRoots();
    const verdict = this.#evaluate(entry.chains, op, roots);
    const now = this.#clock.ms();
    if (verdict.ok) {
      this.#decisions.set(entry.subject.hex, op, true, verdict.until);
    } else {
      const left = this.#repull - (performance.now() - entry.pulledAt);
      if (left <= 0 && !final) return undefined;
      this.#decisions.set(entry.subject.hex, op, false, now + Math.max(0, left));
    }
    return this.#count(op, verdict.ok);
  }

  #evaluate(chains: readonly VerifiedChain[], op: Operation, roots: ReadonlySet<string>): Verdict {
    return evaluate(chains, op, {
      roots,
      now: this.#clock.seconds(),
      skew: this.#skew,
      isRevoked: (cid, issuers) => this.#index.isRevoked(cid, issuers),
    });
  }

  #chainsOf(subject: NodeId): Uint8Array[][] {
    const chains = this.#host?.id.equals(subject) ? this.#held : this.#peers?.get(subject.hex)?.chains ?? [];
    return chains.map((c) => c.links.map((l) => l.bytes));
  }

  /** Check, store and apply a revocation; `true` if it was new. */
  async #accept(bytes: Uint8Array): Promise<boolean> {
    if (this.#index.known(bytes)) return false;
    const accepted = await this.#index.accept(bytes);
    if (!accepted.added) return false;
    const revoked = (c: VerifiedChain) => isChainRevoked(c, (cid, issuers) => this.#index.isRevoked(cid, issuers));
    this.#held = this.#held.filter((c) => !revoked(c));
    this.#peers?.prune((c) => !revoked(c));
    this.#decisions.invalidate();
    this.#own.invalidate();
    this.#host?.log.info("revocation accepted", { cid: accepted.cid, revoker: accepted.revoker });
    this.#events.emit("revoked", accepted.cid);
    return true;
  }
}

function leafId(chain: VerifiedChain): string {
  return chain.links[chain.links.length - 1].id;
}

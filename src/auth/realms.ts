/**
 * Who is trusted where: each realm's policy (`open` admits everything, as a
 * mesh without authorization does; `closed` denies whatever no valid
 * capability covers) and its authorities (the `did:key`s at the root of
 * every accepted chain). A realm with no authority configured trusts the
 * node's own key (so that a node can admit its own apps).
 *
 * @module
 */
import { decodeDidKey } from "../identity/did.ts";
import { MaculaError } from "../util/errors.ts";

/** Whether a realm checks capabilities. */
export type RealmPolicy = "open" | "closed";

/** How one realm is authorized. */
export interface RealmAuth {
  /** `"open"` (default): everything is admitted; `"closed"`: default deny. */
  policy?: RealmPolicy;
  /** The realm's authority keys (`did:key`), the roots of its chains. */
  authorities?: readonly string[];
}

/** A malformed auth configuration (a bad policy or authority). */
export class AuthConfigError extends MaculaError {
  /** `message` names the realm and what is wrong. */
  constructor(message: string) {
    super("E_AUTH_CONFIG", message);
  }
}

/**
 * The realms' policies and authorities as configured.
 *
 * @example
 * ```ts
 * import { RealmTrust } from "./realms.ts";
 * const trust = new RealmTrust({ plant: { policy: "closed" } }, "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK");
 * trust.policy("plant"); // "closed"
 * trust.policy("elsewhere"); // "open"
 * trust.authorities("plant"); // [the node's own did]
 * ```
 */
export class RealmTrust {
  readonly #realms: Map<string, { policy: RealmPolicy; authorities: readonly string[] }>;
  readonly #anyClosed: boolean;
  readonly #sets = new Map<string, ReadonlySet<string>>();
  #self: string;
  #closedRoots?: ReadonlySet<string>;

  /**
   * Check and keep `realms`; `self` is the node's did, the implicit
   * authority (`""` until the node is known). Throws `AuthConfigError`.
   */
  constructor(realms: Readonly<Record<string, RealmAuth>> = {}, self = "") {
    this.#self = self;
    this.#realms = new Map();
    for (const [realm, auth] of Object.entries(realms)) {
      const policy = auth.policy ?? "open";
      if (policy !== "open" && policy !== "closed") {
        throw new AuthConfigError(`realm ${realm}: policy must be "open" or "closed", not ${JSON.stringify(policy)}`);
      }
      const authorities = [...new Set(auth.authorities ?? [])];
      for (const did of authorities) {
        try {
          decodeDidKey(did);
        } catch (error) {
          throw new AuthConfigError(
            `realm ${realm}: authority ${did} is not an Ed25519 did:key (${(error as Error).message})`,
          );
        }
      }
      this.#realms.set(realm, { policy, authorities });
    }
    this.#anyClosed = [...this.#realms.values()].some((r) => r.policy === "closed");
  }

  /** The node's did, the implicit authority of realms with none configured. */
  get self(): string {
    return this.#self;
  }

  set self(did: string) {
    this.#self = did;
    this.#sets.clear();
    this.#closedRoots = undefined;
  }

  /** The policy of `realm` (`"open"` when not configured). */
  policy(realm: string): RealmPolicy {
    return this.#realms.get(realm)?.policy ?? "open";
  }

  /** Whether `realm` is closed; `undefined` (an operation with no realm): whether any realm is. */
  closed(realm: string | undefined): boolean {
    if (realm === undefined) return this.#anyClosed;
    return this.#realms.get(realm)?.policy === "closed";
  }

  /** Whether some configured realm is closed. */
  get anyClosed(): boolean {
    return this.#anyClosed;
  }

  /** The authorities of `realm`: as configured, else the node's own did. */
  authorities(realm: string): readonly string[] {
    const configured = this.#realms.get(realm)?.authorities;
    if (configured && configured.length > 0) return configured;
    return this.#self ? [this.#self] : [];
  }

  /** `authorities(realm)` as a set (cached). */
  authoritySet(realm: string): ReadonlySet<string> {
    let set = this.#sets.get(realm);
    if (!set) {
      if (this.#sets.size >= 256) this.#sets.clear();
      this.#sets.set(realm, set = new Set(this.authorities(realm)));
    }
    return set;
  }

  /**
   * The acceptable roots for `realm`; with no realm, the authorities of
   * `realms` (the node's) and of every configured realm.
   */
  roots(realm: string | undefined, realms: readonly string[] = []): ReadonlySet<string> {
    if (realm !== undefined) return new Set(this.authorities(realm));
    return new Set([...new Set([...realms, ...this.#realms.keys()])].flatMap((r) => this.authorities(r)));
  }

  /** The authorities of every closed realm (the roots for an operation that has no realm). */
  closedRoots(): ReadonlySet<string> {
    return this.#closedRoots ??= new Set(this.closedRealms().flatMap((r) => this.authorities(r)));
  }

  /** The configured closed realms. */
  closedRealms(): string[] {
    return [...this.#realms].filter(([, r]) => r.policy === "closed").map(([name]) => name);
  }

  /** Realms where revocations are gossiped: the closed ones and those with authorities configured. */
  guardedRealms(): string[] {
    return [...this.#realms].filter(([, r]) => r.policy === "closed" || r.authorities.length > 0).map(([n]) => n);
  }

  /** The configuration, for `/status`. */
  describe(realms: readonly string[]): Record<string, { policy: RealmPolicy; authorities: readonly string[] }> {
    const names = [...new Set([...realms, ...this.#realms.keys()])];
    return Object.fromEntries(names.map((r) => [r, { policy: this.policy(r), authorities: this.authorities(r) }]));
  }
}

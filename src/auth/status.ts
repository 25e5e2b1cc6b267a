/**
 * The auth service's `/status` section: per realm its policy and
 * authorities, the chains held (ids, commands, expiry), the peers whose
 * chains are cached, the revocations stored.
 *
 * @module
 */
import type { VerifiedChain } from "../ucan/mod.ts";
import type { SubjectProofs } from "./peer-proofs.ts";
import type { RealmPolicy } from "./realms.ts";

/** Most cached peers listed. */
const MAX_LISTED = 64;

/** What the section is made from. */
export interface AuthStatusInput {
  /** Per realm, its policy and authorities. */
  realms: Record<string, { policy: RealmPolicy; authorities: readonly string[] }>;
  /** The chains this node holds. */
  held: readonly VerifiedChain[];
  /** The peers whose chains are cached. */
  peers: readonly SubjectProofs[];
  /** Revocations stored. */
  revocations: number;
  /** Stored revocations skipped as unreadable. */
  corrupt: number;
  /** Whether the clock is trustworthy. */
  clock: boolean;
}

/** Describe one chain: its leaf id, subject, commands (root first) and expiry (ISO, or null). */
export function describeChain(chain: VerifiedChain): Record<string, unknown> {
  return {
    id: chain.links[chain.links.length - 1].id,
    subject: chain.subject,
    cmds: chain.links.map((l) => l.cmd),
    expires: chain.expires === null ? null : new Date(chain.expires * 1000).toISOString(),
  };
}

/**
 * The `/status` section.
 *
 * @example
 * ```ts
 * import { authStatus } from "./status.ts";
 * authStatus({ realms: {}, held: [], peers: [], revocations: 0, corrupt: 0, clock: true });
 * ```
 */
export function authStatus(input: AuthStatusInput): Record<string, unknown> {
  return {
    realms: input.realms,
    chains: input.held.map(describeChain),
    peers: {
      cached: input.peers.length,
      list: input.peers.slice(0, MAX_LISTED).map((p) => ({ id: p.subject.did, chains: p.chains.length })),
    },
    revocations: input.revocations,
    ...(input.corrupt ? { unreadableRevocations: input.corrupt } : {}),
    clock: input.clock ? "trusted" : "untrusted: only tokens without nbf/exp are accepted",
  };
}

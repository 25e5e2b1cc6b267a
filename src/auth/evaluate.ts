/**
 * Deciding one operation from verified chains: a chain counts when it is
 * current (time bounds with skew), rooted at an acceptable authority and
 * not revoked; the operation is covered when such a chain covers its
 * command and arguments (`operationInvocation`). A subscription to a public
 * topic needs only membership: any counting chain.
 *
 * @module
 */
import type { Operation } from "../node/authorize.ts";
import type { VerifiedChain } from "../ucan/mod.ts";
import { operationInvocation } from "./commands.ts";
import { isPublicTopic } from "./namespace.ts";

/** Whether `issuers` (the issuer of `cid` and those above it) revoked delegation `cid`. */
export type RevocationCheck = (cid: string, issuers: readonly string[]) => boolean;

/** A verdict and until when it holds (ms since the epoch; `Infinity` for never-expiring chains). */
export interface Verdict {
  ok: boolean;
  until: number;
}

/**
 * Whether `chain` is within its time bounds at `now` (seconds) give or take
 * `skew`; with no clock (`now` undefined) only chains without any bound are.
 */
export function isCurrent(chain: VerifiedChain, now: number | undefined, skew: number): boolean {
  if (now === undefined) return chain.expires === null && chain.notBefore === null;
  return (chain.expires === null || now <= chain.expires + skew) &&
    (chain.notBefore === null || now >= chain.notBefore - skew);
}

/** Whether a link of `chain` is revoked by its issuer or an issuer above it. */
export function isChainRevoked(chain: VerifiedChain, isRevoked: RevocationCheck): boolean {
  const links = chain.links;
  const issuers: string[] = [];
  for (let i = 0; i < links.length; i++) {
    issuers.push(links[i].iss);
    if (isRevoked(links[i].id, issuers)) return true;
  }
  return false;
}

/** When `chain` stops being current, ms since the epoch. */
export function expiresAt(chain: VerifiedChain, skew: number): number {
  return chain.expires === null ? Infinity : (chain.expires + skew) * 1000;
}

/** What `evaluate` needs besides the chains and the operation. */
export interface EvaluateContext {
  /** Acceptable chain subjects (the realm's authorities). */
  roots: ReadonlySet<string>;
  /** Now, seconds, or `undefined` without a trustworthy clock. */
  now: number | undefined;
  /** Allowed clock skew, seconds. */
  skew: number;
  /** The revocation check. */
  isRevoked: RevocationCheck;
}

/**
 * Decide `op` from `chains`.
 *
 * @example
 * ```ts
 * import { evaluate } from "./evaluate.ts";
 * declare const chains: import("../ucan/mod.ts").VerifiedChain[];
 * const verdict = evaluate(chains, { kind: "publish", name: "io.acme.plant3.temp", realm: "plant" }, {
 *   roots: new Set(["did:key:z6Mk…"]),
 *   now: Math.floor(Date.now() / 1000),
 *   skew: 60,
 *   isRevoked: () => false,
 * });
 * console.log(verdict.ok);
 * ```
 */
export function evaluate(chains: readonly VerifiedChain[], op: Operation, context: EvaluateContext): Verdict {
  const { cmd, args } = operationInvocation(op);
  let member: VerifiedChain | undefined;
  for (const chain of chains) {
    if (!context.roots.has(chain.subject) || !isCurrent(chain, context.now, context.skew)) continue;
    if (isChainRevoked(chain, context.isRevoked)) continue;
    member ??= chain;
    if (chain.covers(cmd, args)) return { ok: true, until: expiresAt(chain, context.skew) };
  }
  if (member && op.kind === "subscribe" && isPublicTopic(op.name)) {
    return { ok: true, until: expiresAt(member, context.skew) };
  }
  return { ok: false, until: 0 };
}

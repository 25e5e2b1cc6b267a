/**
 * The membership table and SWIM's update rules: alive with a higher
 * incarnation overrides anything; suspect and dead apply at the member's
 * incarnation or above; dead (and left) is final for that incarnation.
 * Incarnations only move up in bounded steps (`MAX_ALIVE_STEP` for a
 * member's own signed token, `MAX_CLAIM_STEP` for others' suspect and dead
 * claims), so no one can push a member to the end of the number range.
 *
 * @module
 */
import type { NodeId } from "../../identity/node-id.ts";
import type { NodeRecord } from "../../identity/node-record.ts";
import { type Clock, systemClock } from "../clock.ts";
import type { AliveToken } from "../messages.ts";
import { Suspicion } from "./suspicion.ts";

/**
 * Most a member's own signed alive token may raise its incarnation above
 * the one we know (2^20). A member raises it by one per refuted suspicion;
 * no honest member gets near this while we still remember it.
 */
export const MAX_ALIVE_STEP = 2 ** 20;
/**
 * Most a suspect or dead claim (not signed by the member) may be above the
 * incarnation we know; further ones are ignored (our own probes decide).
 */
export const MAX_CLAIM_STEP = 16;

/**
 * Whether an update about a member we know at `known` may carry
 * `incarnation` (`alive`: the member's own token; otherwise a claim by
 * someone else). Unknown members (`known` undefined) are bounded only by
 * the decoder's `MAX_INCARNATION`.
 *
 * @example
 * ```ts
 * import { incarnationInBounds } from "./membership.ts";
 * incarnationInBounds(5, 6, "alive"); // true
 * incarnationInBounds(5, 2 ** 53 - 1, "suspect"); // false
 * ```
 */
export function incarnationInBounds(
  known: number | undefined,
  incarnation: number,
  kind: "alive" | "suspect" | "dead",
): boolean {
  if (known === undefined) return true;
  return incarnation <= known + (kind === "alive" ? MAX_ALIVE_STEP : MAX_CLAIM_STEP);
}

/** A member's state. `left` is a graceful departure. */
export type MemberState = "alive" | "suspect" | "dead" | "left";

/** One member (never this node itself). */
export interface Member {
  id: NodeId;
  state: MemberState;
  incarnation: number;
  /** The member's latest signed alive token. */
  token: AliveToken;
  /** The SWIM endpoint we use for it. */
  addr: string;
  /** Its signed node record, once an announcement brought it. */
  record?: NodeRecord;
  /** When the state last changed, ms since the epoch by the membership's clock. */
  since: number;
  suspicion?: Suspicion;
}

/** Called on every state change (`from` is null for a new member). */
export type TransitionHook = (member: Member, from: MemberState | null, to: MemberState) => void;

/** How the suspicion of a member is timed. */
export interface SuspicionPolicy {
  /** Timeout bounds and expected confirmations for the current cluster size. */
  bounds(): { min: number; max: number; expected: number };
  /** Called when the suspicion of `member` times out. */
  onTimeout(member: Member): void;
}

/**
 * Members by id.
 *
 * @example
 * ```ts
 * import { Membership } from "./membership.ts";
 * const table = new Membership({
 *   onTransition: (m, from, to) => console.log(m.id.short, from, "→", to),
 *   suspicion: { bounds: () => ({ min: 2000, max: 6000, expected: 2 }), onTimeout: () => {} },
 * });
 * table.size; // 0
 * ```
 */
export class Membership {
  #members = new Map<string, Member>();
  #onTransition: TransitionHook;
  #suspicion: SuspicionPolicy;
  #clock: Clock;

  /** A table calling `onTransition` on every change; `clock` stamps `since` (default the system clock). */
  constructor(options: { onTransition: TransitionHook; suspicion: SuspicionPolicy; clock?: Clock }) {
    this.#onTransition = options.onTransition;
    this.#suspicion = options.suspicion;
    this.#clock = options.clock ?? systemClock;
  }

  /** Members in any state. */
  get size(): number {
    return this.#members.size;
  }

  /** Is the member with this hex id in the table (any state)? */
  has(hex: string): boolean {
    return this.#members.has(hex);
  }

  get(id: NodeId): Member | undefined {
    return this.#members.get(id.hex);
  }

  /** Every member, any state. */
  all(): Member[] {
    return [...this.#members.values()];
  }

  /** Members that are alive or suspect (probe targets, gossip peers). */
  live(): Member[] {
    return this.all().filter((m) => m.state === "alive" || m.state === "suspect");
  }

  #set(m: Member, to: MemberState, now: number): void {
    const from = m.state;
    m.state = to;
    m.since = now;
    if (to !== "suspect") {
      m.suspicion?.cancel();
      m.suspicion = undefined;
    }
    if (from !== to) this.#onTransition(m, from, to);
  }

  /**
   * Apply a (verified) alive token. A new member joins; a known one is
   * updated only by a higher incarnation, at most `MAX_ALIVE_STEP` above
   * the known one. Returns true if accepted.
   */
  alive(token: AliveToken, addr: string, now: number = this.#clock()): boolean {
    const m = this.#members.get(token.id.hex);
    if (!m) {
      const member: Member = { id: token.id, state: "alive", incarnation: token.incarnation, token, addr, since: now };
      this.#members.set(token.id.hex, member);
      this.#onTransition(member, null, "alive");
      return true;
    }
    if (token.incarnation <= m.incarnation || !incarnationInBounds(m.incarnation, token.incarnation, "alive")) {
      return false;
    }
    m.incarnation = token.incarnation;
    m.token = token;
    m.addr = addr;
    this.#set(m, "alive", now);
    return true;
  }

  /**
   * Apply a suspicion of `id` at `incarnation` raised or confirmed by `by`.
   * Returns `"new"` (now suspect), `"confirmed"` (a new independent
   * confirmation) or `"ignored"`.
   */
  suspect(id: NodeId, incarnation: number, by: NodeId, now: number = this.#clock()): "new" | "confirmed" | "ignored" {
    const m = this.#members.get(id.hex);
    if (!m || incarnation < m.incarnation || m.state === "dead" || m.state === "left") return "ignored";
    if (!incarnationInBounds(m.incarnation, incarnation, "suspect")) return "ignored";
    if (m.state === "suspect" && m.suspicion && incarnation === m.incarnation) {
      return m.suspicion.confirm(by) ? "confirmed" : "ignored";
    }
    m.incarnation = incarnation;
    m.suspicion?.cancel();
    const { min, max, expected } = this.#suspicion.bounds();
    m.suspicion = new Suspicion({ min, max, expected, from: by, onTimeout: () => this.#suspicion.onTimeout(m) });
    this.#set(m, "suspect", now);
    return "new";
  }

  /**
   * Apply a death (or, with `by == id`, a departure) of `id` at
   * `incarnation`. Returns true if accepted.
   */
  dead(id: NodeId, incarnation: number, by: NodeId, now: number = this.#clock()): boolean {
    const m = this.#members.get(id.hex);
    if (!m || incarnation < m.incarnation || m.state === "dead" || m.state === "left") return false;
    if (!incarnationInBounds(m.incarnation, incarnation, "dead")) return false;
    m.incarnation = incarnation;
    this.#set(m, by.equals(id) ? "left" : "dead", now);
    return true;
  }

  /** Forget dead and departed members older than `retention` ms. Returns those removed. */
  sweep(retention: number, now: number = this.#clock()): Member[] {
    const removed: Member[] = [];
    for (const m of this.#members.values()) {
      if ((m.state === "dead" || m.state === "left") && now - m.since >= retention) {
        this.#members.delete(m.id.hex);
        removed.push(m);
      }
    }
    return removed;
  }

  /** Stop every suspicion timer. */
  clear(): void {
    for (const m of this.#members.values()) m.suspicion?.cancel();
    this.#members.clear();
  }
}

/**
 * The types the SWIM engine shares with its parts (`outbox.ts`,
 * `receiver.ts`): its options and its events. A module of their own, so
 * that the parts need not import `swim.ts`, which imports them.
 *
 * @module
 */
import type { DomainSigner } from "../../identity/domain-signature.ts";
import type { NodeId } from "../../identity/node-id.ts";
import type { NodeRecord } from "../../identity/node-record.ts";
import type { Logger } from "../../log/logger.ts";
import type { SocketAddress } from "../../platform/types.ts";
import type { Clock } from "../clock.ts";
import type { ClusterKey } from "../hmac.ts";
import type { ClusterMetrics } from "../metrics.ts";
import type { SwimTimings } from "../options.ts";
import type { Member, MemberState } from "./membership.ts";

/** A membership change. `up`/`down` are what applications usually want. */
export interface MembershipEvent {
  /** `up`: joined or came back; `down`: failed or left; `suspect`; `alive`: recovered from suspicion. */
  type: "up" | "down" | "suspect" | "alive";
  /** The member. */
  id: NodeId;
  /** Its state after the change. */
  state: MemberState;
  /** Its incarnation after the change. */
  incarnation: number;
  /** When it happened, ms since the epoch by the engine's clock. */
  at: number;
}

/** Events of the engine. */
export type SwimEvents = {
  change: [event: MembershipEvent];
  /** A member's (newer) signed node record arrived. */
  record: [record: NodeRecord, member: Member];
};

/** Options of `Swim`. */
export interface SwimOptions {
  /** Signs alive tokens and datagrams as this node (a `ServiceHost` is one). */
  signer: DomainSigner;
  /** Cluster key (from the secret); without it datagrams carry no MAC and MAC'd ones are refused. */
  key?: ClusterKey;
  timings?: Partial<SwimTimings>;
  /** Send one datagram (fire and forget). */
  send(to: SocketAddress, bytes: Uint8Array): void;
  /** This node's SWIM endpoints (`host:port`). */
  endpoints(): string[];
  /** This node's current signed record. */
  record(): NodeRecord;
  /** Which of a member's endpoints to use (default: the first). */
  pickEndpoint?(addrs: string[]): string;
  log?: Logger;
  metrics?: ClusterMetrics;
  /**
   * The wall clock, used only for what is shown (when a member changed
   * state, event times); default `Date.now`. The protocol never compares
   * clocks between nodes, so nodes whose clocks disagree by hours cluster.
   */
  clock?: Clock;
}

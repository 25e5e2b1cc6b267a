/**
 * The options, events and topic of the auth service (`auth-service.ts`).
 *
 * @module
 */
import type { Delegation } from "../ucan/mod.ts";
import type { RealmAuth } from "./realms.ts";
import type { RevocationStore } from "./revocation-store.ts";

/** The internal pub/sub topic revocations are gossiped on, in every guarded realm. */
export const REVOCATION_TOPIC = "_macula.auth.revocations";

/** Options of the auth service. */
export interface AuthOptions {
  /** Per realm; realms not listed are open, with the node's own key as their implicit authority. */
  realms?: Readonly<Record<string, RealmAuth>>;
  /** Chains this node holds and presents (root first; the last audience is this node). */
  chains?: readonly (readonly Delegation[])[];
  /** Where revocations are kept. Default: in memory (`Node.start` gives a file under `<dataDir>/auth/`). */
  revocations?: RevocationStore;
  /** Allowed clock skew, seconds. Default 60. */
  skew?: number;
  /** The clock, ms. Default `Date.now`; a reading before 2025-01-01 means "no clock". */
  clock?: () => number;
  /**
   * How long a refusal of a subject stands before its chains are pulled
   * again (it may have got a token meanwhile), ms. Default 5 000.
   */
  repullAfter?: number;
}

/** Events of the auth service. */
export type AuthEvents = {
  /** A revocation of delegation `cid` was accepted (made here, gossiped or caught up). */
  revoked: [cid: string];
  /** A revocation was made here (`revoke`): its bytes, for gossip. */
  revocation: [bytes: Uint8Array];
};

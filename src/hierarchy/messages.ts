/**
 * Messages of `/macula/hier/1`, the bridges' protocol (carried by the
 * request channel).
 *
 * Requests `{ t, kind, name, level, scope?, limit?, rec? }`:
 * - `up`: a member of a level hands a bridge the signed provider record
 *   `rec` it announced at its own level; the bridge holds it and announces
 *   itself, as a proxy, at `level` (its parent level), and passes it on
 *   upwards while `scope` allows.
 * - `held`: the records a proxy holds for (`kind`, `name`).
 * - `find`: resolve (`kind`, `name`) from `level` up to `scope` (at most
 *   `limit` records; `fresh`: skip caches): the escalation step. With
 *   `only`, resolve at the `scope` level alone (it sits above `level`).
 *
 * Replies `{ ok?, level?, recs? }` (`level`: the level reached or that answered); every record travels in its signed wire form and
 * is verified by the receiver.
 *
 * @module
 */
import { array, bool, bytes, literal, object, optional, str, uint, type Validator } from "../wire/schema.ts";
import { MAX_LOCALITY_DEPTH } from "./locality.ts";

/** Protocol id. */
export const HIER_PROTOCOL = "/macula/hier/1";

/** Most records in one reply. */
export const MAX_REPLY_RECORDS = 32;

/** The kinds of keys the hierarchy resolves (see `KeyKind`). */
export type HierKind = "rpc" | "sub" | "content" | "raw";

/** A request body. */
export interface HierRequest {
  /** `up`, `held` or `find`. */
  t: "up" | "held" | "find";
  /** Key kind. */
  kind: HierKind;
  /** Key name (procedure, topic root, MCID, …). */
  name: string;
  /** The level asked about. */
  level: number;
  /** The highest level the request may reach. */
  scope?: number;
  /** Records wanted. */
  limit?: number;
  /** A signed provider record (`up`). */
  rec?: Uint8Array;
  /** Skip caches (`find`). */
  fresh?: boolean;
  /** Answer for the `scope` level alone, from above `level` (`find`: gathering every provider within a scope). */
  only?: boolean;
}

/** A reply body. */
export interface HierReply {
  /** Done. */
  ok?: boolean;
  /** The level reached (`up`) or that answered (`find`). */
  level?: number;
  /** Signed provider records. */
  recs?: Uint8Array[];
}

/** Validates a request body. */
export const validateHierRequest: Validator<HierRequest> = object({
  t: literal("up", "held", "find"),
  kind: literal("rpc", "sub", "content", "raw"),
  name: str({ max: 512, min: 1 }),
  level: uint({ max: MAX_LOCALITY_DEPTH }),
  scope: optional(uint({ max: MAX_LOCALITY_DEPTH })),
  limit: optional(uint({ max: MAX_REPLY_RECORDS })),
  rec: optional(bytes({ max: 16 * 1024 })),
  fresh: optional(bool()),
  only: optional(bool()),
});

/** Validates a reply body. */
export const validateHierReply: Validator<HierReply> = object({
  ok: optional(bool()),
  level: optional(uint({ max: MAX_LOCALITY_DEPTH })),
  recs: optional(array(bytes({ max: 16 * 1024 }), { max: MAX_REPLY_RECORDS })),
});

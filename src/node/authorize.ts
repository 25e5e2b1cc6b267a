/**
 * The per-operation authorization hook. Every operation a remote node asks
 * of this one — a stream, an exposed request, an RPC call, a pub/sub message
 * delivered, a subscription announced — is decided by one function of the
 * subject (the node the operation comes from: for a forwarded pub/sub
 * message, the origin publisher, not the forwarder) and the operation.
 *
 * Two hooks can apply: the node-wide policy (`NodeOptions.authorize`, where
 * a capability gatekeeper plugs in) and the handler's own (`expose`,
 * `advertise`, `subscribe`, `handle` options). Both must admit.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import { MaculaError } from "../util/errors.ts";

/** What kind of operation is being decided. */
export type OperationKind =
  /** A stream opened for `name` (a protocol id); the coarse gate. */
  | "stream"
  /** A request to the handler `name` exposed with `expose`. */
  | "request"
  /** An RPC call of procedure `name`. */
  | "call"
  /** A pub/sub message on topic `name` delivered to this node. */
  | "publish"
  /** A remote node subscribing to `name` (a pattern) here. */
  | "subscribe"
  /** A remote node asking this node for the content `name` (an MCID). */
  | "content"
  /** Writes to the replicated state `name` (from a peer, or this node's own). */
  | "state-write"
  /** A peer reading the replicated state `name` (a sync with this node). */
  | "state-read";

/** One operation to decide. */
export interface Operation {
  /** The kind of operation. */
  kind: OperationKind;
  /** What it is on: protocol id, handler name, procedure, topic or pattern. */
  name: string;
  /** The realm, for realm-scoped operations. */
  realm?: string;
  /** The node that handed it over when it is not the subject (a pub/sub forwarder). */
  via?: NodeId;
  /**
   * Authorization material carried by the request envelope (e.g. a
   * capability token), as sent by the subject; `undefined` when none.
   */
  auth?: unknown;
}

/**
 * Decides whether `subject` may perform `operation`. Returning `false` (or
 * throwing, or rejecting) refuses it.
 *
 * @example
 * ```ts
 * import type { Authorize } from "./authorize.ts";
 * const trusted = new Set<string>();
 * const onlyTrusted: Authorize = (subject, op) => op.kind !== "call" || trusted.has(subject.did);
 * ```
 */
export type Authorize = (subject: NodeId, operation: Operation) => boolean | Promise<boolean>;

/** The remote node (or this node's policy) refused the operation. */
export class NotAuthorizedError extends MaculaError {
  /** `message` says what was refused. */
  constructor(message: string) {
    super("E_NOT_AUTHORIZED", message);
  }
}

/**
 * Run `hooks` in order for `subject` and `operation`: true only if every
 * given hook admits. A hook that throws or rejects refuses. The answer is a
 * plain boolean as long as the hooks answer synchronously (with no hook at
 * all: `true`), so hot paths pay for a promise only when a hook is async.
 *
 * @example
 * ```ts
 * import { decide } from "./authorize.ts";
 * declare const peer: import("../identity/node-id.ts").NodeId;
 * decide(peer, { kind: "call", name: "math.add" }, () => true, undefined); // true
 * ```
 */
export function decide(
  subject: NodeId,
  operation: Operation,
  ...hooks: Array<Authorize | undefined>
): boolean | Promise<boolean> {
  for (let i = 0; i < hooks.length; i++) {
    const hook = hooks[i];
    if (!hook) continue;
    let verdict: boolean | Promise<boolean>;
    try {
      verdict = hook(subject, operation);
    } catch {
      return false;
    }
    if (verdict instanceof Promise) {
      const rest = hooks.slice(i + 1);
      return verdict.then((ok) => ok === true && decide(subject, operation, ...rest), () => false);
    }
    if (verdict !== true) return false;
  }
  return true;
}

/**
 * Admission of inbound handshakes before the peer is authenticated: a
 * global cap on handshakes in progress and a per-source cap, so one host
 * holding half-open handshakes cannot take every slot. Shared by the QUIC
 * and TCP links. A source is the remote IP address (IPv6: its /64, which one
 * host usually controls whole).
 *
 * @module
 */
import { TimeoutError } from "../util/async.ts";

/** Why an inbound handshake was not admitted, or was cut off. */
export type HandshakeRefusal = "global-limit" | "source-limit" | "deadline";

/** Tunables of a `HandshakeGate`. */
export interface HandshakeGateOptions {
  /** Inbound handshakes in progress at once, from all sources. */
  maxPending: number;
  /** Inbound handshakes in progress at once from one source. */
  maxPendingPerSource: number;
}

/** Default cap on handshakes in progress from one source. */
export const DEFAULT_MAX_PENDING_PER_SOURCE = 8;
/** Default deadline of a whole inbound handshake, ms. */
export const DEFAULT_INBOUND_HANDSHAKE_BUDGET = 5_000;

/**
 * The source key of a remote address: the IP (IPv4-mapped IPv6 as IPv4),
 * an IPv6 address cut to its /64. `remote` is a bare host or `host:port`
 * (IPv6 in brackets).
 *
 * @example
 * ```ts
 * import { sourceOf } from "./handshake-gate.ts";
 * sourceOf("10.0.0.7:51234"); // "10.0.0.7"
 * sourceOf("[2001:db8:1:2:3:4:5:6]:9443"); // "2001:db8:1:2::/64"
 * ```
 */
export function sourceOf(remote: string): string {
  let host = remote;
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(remote);
  if (bracket) host = bracket[1];
  else if (/^[^:]+:\d+$/.test(remote)) host = remote.slice(0, remote.lastIndexOf(":"));
  host = host.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host);
  if (mapped) return mapped[1];
  if (!host.includes(":")) return host;
  return `${expandV6(host).slice(0, 4).join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, as short hex strings ("0" for zero). */
function expandV6(address: string): string[] {
  const [head, tail] = address.split("%")[0].split("::");
  const left = head ? head.split(":") : [];
  const right = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const fill = tail === undefined ? [] : new Array(Math.max(0, 8 - left.length - right.length)).fill("0");
  return [...left, ...fill, ...right].map((g) => (parseInt(g, 16) || 0).toString(16));
}

/** Did a handshake fail on its deadline (directly, or as the cause of a `HandshakeError`)? */
export function isTimeout(error: unknown): boolean {
  let e: unknown = error;
  for (let depth = 0; e instanceof Error && depth < 4; depth++) {
    if (e instanceof TimeoutError) return true;
    e = e.cause;
  }
  return false;
}

/**
 * Counts inbound handshakes in progress, globally and per source.
 *
 * @example
 * ```ts
 * import { HandshakeGate } from "./handshake-gate.ts";
 * const gate = new HandshakeGate({ maxPending: 128, maxPendingPerSource: 8 });
 * const slot = gate.enter("192.0.2.1:40000");
 * if (typeof slot === "string") {
 *   // refused: "global-limit" or "source-limit"; drop the connection
 * } else {
 *   try {
 *     // ... run the handshake ...
 *   } finally {
 *     slot.release();
 *   }
 * }
 * ```
 */
export class HandshakeGate {
  readonly #maxPending: number;
  readonly #maxPerSource: number;
  readonly #bySource = new Map<string, number>();
  #pending = 0;

  /** A gate with the given caps; throws `RangeError` for a cap that is not a positive integer. */
  constructor(options: HandshakeGateOptions) {
    for (const [name, value] of Object.entries(options)) {
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be an integer ≥ 1`);
    }
    this.#maxPending = options.maxPending;
    this.#maxPerSource = options.maxPendingPerSource;
  }

  /** Handshakes in progress. */
  get pending(): number {
    return this.#pending;
  }

  /** Handshakes in progress from the source of `remote`. */
  pendingFrom(remote: string): number {
    return this.#bySource.get(sourceOf(remote)) ?? 0;
  }

  /**
   * Take a slot for a handshake from `remote` (see `sourceOf`), or
   * `"unknown"` when the address is not known yet (counted globally only).
   * Returns the slot, to `release()` exactly once when the handshake ends,
   * or why it was refused.
   */
  enter(remote: string): { release(): void } | HandshakeRefusal {
    if (this.#pending >= this.#maxPending) return "global-limit";
    const source = remote === "unknown" ? null : sourceOf(remote);
    if (source !== null) {
      const n = this.#bySource.get(source) ?? 0;
      if (n >= this.#maxPerSource) return "source-limit";
      this.#bySource.set(source, n + 1);
    }
    this.#pending++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#pending--;
        if (source === null) return;
        const n = this.#bySource.get(source)! - 1;
        if (n === 0) this.#bySource.delete(source);
        else this.#bySource.set(source, n);
      },
    };
  }

  /**
   * Move a slot taken for an unknown address to `remote`'s source (QUIC
   * learns the address only once TLS is done). Returns the new slot, or
   * `"source-limit"` (the old slot is then released).
   */
  identify(slot: { release(): void }, remote: string): { release(): void } | HandshakeRefusal {
    slot.release();
    const next = this.enter(remote);
    return next;
  }
}

/**
 * The addresses other nodes see this node at, as reported by identify: a
 * small bounded list, newest first, one entry per (transport, address).
 * Useful to learn a public address behind NAT, or that one is needed.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { TransportKind } from "../transport/session.ts";

/** One report of the address a peer sees us at. */
export interface ObservedAddress {
  /** The transport of the connection the peer saw us on. */
  transport: TransportKind;
  /** The address it saw (the connection's remote address on its side, e.g. `203.0.113.7:51234`). */
  address: string;
  /** The peer that reported it. */
  by: NodeId;
  /** When it was reported, ms since epoch. */
  at: number;
}

/**
 * The last addresses peers reported seeing us at.
 *
 * @example
 * ```ts
 * import { ObservedAddresses } from "./observed-addresses.ts";
 * import { NodeId } from "../identity/node-id.ts";
 * declare const peer: NodeId;
 * const observed = new ObservedAddresses(4);
 * observed.add({ transport: "tcp", address: "203.0.113.7:51234", by: peer, at: Date.now() });
 * observed.texts(); // ["tcp://203.0.113.7:51234"]
 * ```
 */
export class ObservedAddresses {
  #entries: ObservedAddress[] = [];
  readonly #max: number;

  /** Keep at most `max` entries (default 8). */
  constructor(max = 8) {
    this.#max = max;
  }

  /** Record a report; it replaces an older report of the same address and evicts the oldest beyond the bound. */
  add(entry: ObservedAddress): void {
    const rest = this.#entries.filter((e) => e.transport !== entry.transport || e.address !== entry.address);
    this.#entries = [entry, ...rest].slice(0, this.#max);
  }

  /** The reports, newest first. */
  list(): ObservedAddress[] {
    return [...this.#entries];
  }

  /** The reports as `transport://address` strings, newest first. */
  texts(): string[] {
    return this.#entries.map((e) => `${e.transport}://${e.address}`);
  }
}

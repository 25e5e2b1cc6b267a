/**
 * The operator's limits of a relay, with their defaults, and the
 * bookkeeping that enforces them: reservations (bound to the reserving
 * connection, expiring after their time to live) and open circuits (per
 * dialing peer and in total).
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { Connection } from "../transport/connection.ts";

/** Limits a relay operator sets; each has a default and shows in `/metrics` (`macula_relay_limit`). */
export interface RelayLimits {
  /** Reservations held at once. Default 128. */
  maxReservations?: number;
  /** Open circuits per dialing peer. Default 16. */
  maxCircuitsPerPeer?: number;
  /** Open circuits in total. Default 512. */
  maxCircuits?: number;
  /** Bytes/s per circuit (each direction paced by one bucket). Default 1 MiB/s. */
  circuitRate?: number;
  /** Bytes/s over all circuits. Default 8 MiB/s. */
  totalRate?: number;
  /** Lifetime of a reservation unless refreshed, ms. Default 15 min. */
  reservationTtl?: number;
}

/** The defaults of `RelayLimits`. No duration or byte cap per circuit: relayed traffic is throttled, never cut. */
export const DEFAULT_RELAY_LIMITS: Readonly<Required<RelayLimits>> = Object.freeze({
  maxReservations: 128,
  maxCircuitsPerPeer: 16,
  maxCircuits: 512,
  circuitRate: 1 << 20,
  totalRate: 8 << 20,
  reservationTtl: 15 * 60_000,
});

/** A reservation a node holds at this relay. */
export interface Reservation {
  /** The reserved node. */
  id: NodeId;
  /** The connection it reserved over (circuits to it go there). */
  connection: Connection;
  /** When it lapses unless refreshed, ms since epoch. */
  expires: number;
}

/**
 * The reservations of a relay.
 *
 * @example
 * ```ts
 * import { Reservations } from "./limits.ts";
 * declare const conn: import("../transport/connection.ts").Connection;
 * const table = new Reservations(128);
 * const r = table.reserve(conn, 900_000); // a Reservation, or "reservation-limit"
 * table.get(conn.remoteId)?.expires;
 * ```
 */
export class Reservations {
  #byId = new Map<string, Reservation>();

  /** A table of at most `max` reservations. */
  constructor(readonly max: number) {}

  /** Reservations held now. */
  get size(): number {
    this.#sweep();
    return this.#byId.size;
  }

  /** Every live reservation. */
  list(): Reservation[] {
    this.#sweep();
    return [...this.#byId.values()];
  }

  /** The live reservation of `id` on an open connection, if any. */
  get(id: NodeId): Reservation | undefined {
    const r = this.#byId.get(id.hex);
    if (!r) return undefined;
    if (r.expires <= Date.now() || r.connection.isClosed) {
      this.#byId.delete(id.hex);
      return undefined;
    }
    return r;
  }

  /**
   * Make or refresh the reservation of `connection`'s peer for `ttl` ms.
   * A new connection of the same peer takes the reservation over. Returns
   * `"reservation-limit"` when full.
   */
  reserve(connection: Connection, ttl: number): Reservation | "reservation-limit" {
    const id = connection.remoteId;
    const held = this.get(id);
    if (!held && this.size >= this.max) return "reservation-limit";
    const r: Reservation = { id, connection, expires: Date.now() + ttl };
    this.#byId.set(id.hex, r);
    if (held?.connection !== connection) {
      connection.closed.then(() => {
        if (this.#byId.get(id.hex)?.connection === connection) this.#byId.delete(id.hex);
      });
    }
    return r;
  }

  /** Drop every reservation. */
  clear(): void {
    this.#byId.clear();
  }

  #sweep(): void {
    const now = Date.now();
    for (const [k, r] of this.#byId) if (r.expires <= now || r.connection.isClosed) this.#byId.delete(k);
  }
}

/**
 * Open circuits, per dialing peer and in total.
 *
 * @example
 * ```ts
 * import { CircuitTable } from "./limits.ts";
 * declare const dialer: import("../identity/node-id.ts").NodeId;
 * const circuits = new CircuitTable(16, 512);
 * const release = circuits.open(dialer);
 * if (typeof release === "function") release(); // when the circuit ends
 * ```
 */
export class CircuitTable {
  #perPeer = new Map<string, number>();
  #total = 0;

  /** At most `perPeer` circuits per dialer and `total` in all. */
  constructor(readonly perPeer: number, readonly total: number) {}

  /** Circuits open now. */
  get size(): number {
    return this.#total;
  }

  /** Count a circuit of `dialer`: its release function, or `"circuit-limit"`. */
  open(dialer: NodeId): (() => void) | "circuit-limit" {
    const n = this.#perPeer.get(dialer.hex) ?? 0;
    if (n >= this.perPeer || this.#total >= this.total) return "circuit-limit";
    this.#perPeer.set(dialer.hex, n + 1);
    this.#total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#total--;
      const left = (this.#perPeer.get(dialer.hex) ?? 1) - 1;
      if (left <= 0) this.#perPeer.delete(dialer.hex);
      else this.#perPeer.set(dialer.hex, left);
    };
  }
}

/**
 * Receive memory budgets of the stream multiplexer. Per-stream windows
 * bound each stream, but a peer may open many streams, each with the
 * 256 KiB the protocol grants a new stream up front. So every byte a muxer
 * holds for the application (received, not yet read) is also charged to
 * its connection's budget and to a node-wide one shared by all connections;
 * a charge that does not fit is refused, and the muxer then resets the
 * stream (RST code `ResetCode.Memory`). Under pressure (half a budget used)
 * new inbound streams are refused and windows stop growing, so honest flows
 * see refusals early instead of resets.
 *
 * @module
 */

/** Default node-wide receive budget: 64 MiB. */
export const DEFAULT_NODE_RECEIVE_BUDGET = 64 * 1024 * 1024;
/** Default per-connection receive budget: 16 MiB. */
export const DEFAULT_CONNECTION_RECEIVE_BUDGET = 16 * 1024 * 1024;

/** Options of `MemoryBudget`. */
export interface MemoryBudgetOptions {
  /** Bytes all connections together may hold unread. Default 64 MiB. */
  total?: number;
  /** Bytes one connection may hold unread. Default 16 MiB (never above `total`). */
  perConnection?: number;
}

/**
 * The node-wide receive budget; hand one to every transport of a node and
 * each connection takes its share with `connection()`.
 *
 * @example
 * ```ts
 * import { MemoryBudget } from "./receive-budget.ts";
 * const budget = new MemoryBudget({ total: 64 << 20, perConnection: 16 << 20 });
 * const conn = budget.connection();
 * conn.tryCharge(65_536); // true
 * conn.release(65_536);
 * conn.close(); // gives back whatever the connection still held
 * ```
 */
export class MemoryBudget {
  /** Bytes all connections together may hold. */
  readonly total: number;
  /** Bytes one connection may hold. */
  readonly perConnection: number;
  #used = 0;

  /** A budget with the given limits; throws `RangeError` for a limit that is not a positive integer. */
  constructor(options: MemoryBudgetOptions = {}) {
    const total = options.total ?? DEFAULT_NODE_RECEIVE_BUDGET;
    const perConnection = Math.min(options.perConnection ?? DEFAULT_CONNECTION_RECEIVE_BUDGET, total);
    for (const [name, value] of [["total", total], ["perConnection", perConnection]] as const) {
      if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
    }
    this.total = total;
    this.perConnection = perConnection;
  }

  /** Bytes held by all connections now. */
  get used(): number {
    return this.#used;
  }

  /** True once half the node-wide budget is in use. */
  get underPressure(): boolean {
    return this.#used * 2 >= this.total;
  }

  /** A new connection's share of this budget. */
  connection(): ConnectionBudget {
    return new ConnectionBudget(this);
  }

  /** @internal Charge `n` bytes node-wide if they fit. */
  take(n: number): boolean {
    if (this.#used + n > this.total) return false;
    this.#used += n;
    return true;
  }

  /** @internal Give back `n` bytes. */
  give(n: number): void {
    this.#used = Math.max(0, this.#used - n);
  }
}

/** One connection's receive budget, part of a node-wide `MemoryBudget`. */
export class ConnectionBudget {
  readonly #node: MemoryBudget;
  #used = 0;
  #closed = false;

  /** @internal Use `MemoryBudget.connection()`. */
  constructor(node: MemoryBudget) {
    this.#node = node;
  }

  /** Bytes this connection holds now. */
  get used(): number {
    return this.#used;
  }

  /** This connection's limit. */
  get limit(): number {
    return this.#node.perConnection;
  }

  /** True once half this connection's budget, or half the node's, is in use. */
  get underPressure(): boolean {
    return this.#used * 2 >= this.limit || this.#node.underPressure;
  }

  /**
   * May a stream's receive window grow to `window` bytes? Only while not
   * under pressure, and never beyond half the connection's budget.
   */
  allowsWindow(window: number): boolean {
    return !this.underPressure && window * 2 <= this.limit;
  }

  /** Charge `n` received bytes; false (nothing charged) if they fit neither this connection's nor the node's budget. */
  tryCharge(n: number): boolean {
    if (this.#closed || this.#used + n > this.limit) return false;
    if (!this.#node.take(n)) return false;
    this.#used += n;
    return true;
  }

  /** The application took `n` charged bytes (or they were dropped). */
  release(n: number): void {
    if (this.#closed || n <= 0) return;
    const back = Math.min(n, this.#used);
    this.#used -= back;
    this.#node.give(back);
  }

  /** The connection ended: give back everything it held; later charges fail. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#node.give(this.#used);
    this.#used = 0;
    this.#closed = true;
  }
}

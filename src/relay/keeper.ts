/**
 * Keeps chosen peers connected: dials each one now and again whenever its
 * connection is lost, with exponential backoff and jitter between failed
 * attempts. The relay client keeps its relays connected with it, and a
 * relay its peer relays.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { Connection } from "../transport/connection.ts";

/** Options of `PeerKeeper`. */
export interface KeeperOptions {
  /** Connect to `id` (reusing an open connection). */
  dial(id: NodeId): Promise<Connection>;
  /** Called with each connection made (or found) for a kept peer. */
  onConnected?(id: NodeId, connection: Connection): void | Promise<void>;
  /** Called when an attempt failed. */
  onFailed?(id: NodeId, error: unknown): void;
  /** First retry delay, ms. Default 500. */
  backoffInitial?: number;
  /** Largest retry delay, ms. Default 5 000 (a restarted relay is back within seconds). */
  backoffMax?: number;
}

interface Kept {
  id: NodeId;
  attempt: number;
  timer?: ReturnType<typeof setTimeout>;
  busy: boolean;
}

/**
 * Peers kept connected.
 *
 * @example
 * ```ts
 * import { PeerKeeper } from "./keeper.ts";
 * declare const host: import("../node/service.ts").ServiceHost;
 * declare const relay: import("../identity/node-id.ts").NodeId;
 * const keeper = new PeerKeeper({ dial: (id) => host.connect(id) });
 * keeper.keep(relay);
 * // later, when its connection closed:
 * keeper.lost(relay);
 * keeper.stop();
 * ```
 */
export class PeerKeeper {
  readonly #o: KeeperOptions;
  #kept = new Map<string, Kept>();
  #stopped = false;

  /** A keeper dialing with `options.dial`. */
  constructor(options: KeeperOptions) {
    this.#o = options;
  }

  /** Is `id` kept? */
  has(id: NodeId): boolean {
    return this.#kept.has(id.hex);
  }

  /** Keep `id` connected (dial now). */
  keep(id: NodeId): void {
    if (this.#stopped || this.#kept.has(id.hex)) return;
    const k: Kept = { id, attempt: 0, busy: false };
    this.#kept.set(id.hex, k);
    this.#schedule(k, 0);
  }

  /** Tell that the connection to `id` was lost: reconnect soon. */
  lost(id: NodeId): void {
    const k = this.#kept.get(id.hex);
    if (k) this.#schedule(k, 200);
  }

  /** Retry `id` after the backoff (e.g. after a refusal), or after `delay` ms. */
  retry(id: NodeId, delay?: number): void {
    const k = this.#kept.get(id.hex);
    if (k) this.#schedule(k, delay ?? this.#backoff(++k.attempt));
  }

  /** Stop keeping `id`. */
  drop(id: NodeId): void {
    const k = this.#kept.get(id.hex);
    if (k) clearTimeout(k.timer);
    this.#kept.delete(id.hex);
  }

  /** Stop everything. */
  stop(): void {
    this.#stopped = true;
    for (const k of this.#kept.values()) clearTimeout(k.timer);
    this.#kept.clear();
  }

  #backoff(attempt: number): number {
    const initial = this.#o.backoffInitial ?? 500;
    const base = Math.min(this.#o.backoffMax ?? 5_000, initial * 2 ** Math.max(0, attempt - 1));
    return Math.round(base * (0.75 + Math.random() * 0.5));
  }

  #schedule(k: Kept, delay: number): void {
    clearTimeout(k.timer);
    k.timer = setTimeout(() => this.#attempt(k), delay);
  }

  async #attempt(k: Kept): Promise<void> {
    if (this.#stopped || k.busy || this.#kept.get(k.id.hex) !== k) return;
    k.busy = true;
    try {
      const conn = await this.#o.dial(k.id);
      k.attempt = 0;
      await this.#o.onConnected?.(k.id, conn);
    } catch (error) {
      this.#o.onFailed?.(k.id, error);
      if (!this.#stopped && this.#kept.get(k.id.hex) === k) this.#schedule(k, this.#backoff(++k.attempt));
    } finally {
      k.busy = false;
    }
  }
}

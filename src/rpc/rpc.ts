/**
 * RPC across the mesh, per realm. `advertise` registers a handler and
 * announces this node as a provider in the DHT; `call` finds providers
 * (cached; refreshed when they fail), prefers connected and low-latency
 * ones, and fails over to the next provider when one dies mid-call, times
 * out, or no longer provides the procedure. Concurrent calls share one
 * stream per provider.
 *
 * Errors a caller can tell apart: `NoProviderError`, `TimeoutError`,
 * `RemoteHandlerError` (the handler threw; its message is kept),
 * `NotAuthorizedError` (the provider refused this caller), `AbortedError`
 * (cancelled through the signal).
 *
 * Authorization: each call is decided at the provider by the node's policy
 * and the procedure's own `authorize` (a `"call"` operation on the
 * procedure, with the envelope's `auth` material).
 *
 * @module
 */
import { DHT, type DhtService, RealmError } from "../dht/dht.ts";
import { realmKey } from "../dht/keys.ts";
import type { NodeId } from "../identity/node-id.ts";
import type { ProviderLocator } from "./locator.ts";
import type { Counter } from "../metrics/registry.ts";
import { type Authorize, NotAuthorizedError } from "../node/authorize.ts";
import { RemoteHandlerError } from "../node/envelope.ts";
import { RequestChannel, serveRequests } from "../node/request-channel.ts";
import { type NodeService, type ServiceHost, type ServiceKey, serviceKey } from "../node/service.ts";
import { validateTopic } from "../pubsub/topic.ts";
import { ConnectionClosedError } from "../transport/errors.ts";
import { AbortedError, TimeoutError } from "../util/async.ts";
import { MaculaError } from "../util/errors.ts";
import { any, object, str } from "../wire/schema.ts";
import { watchAttempt } from "./liveness.ts";

/** Protocol id. */
export const RPC_PROTOCOL = "/macula/rpc/1";

/** No node provides the procedure (or none could be reached). */
export class NoProviderError extends MaculaError {
  /**
   * Build the error (code `E_NO_PROVIDER`) for `procedure`; `detail` (e.g.
   * why each provider failed) is appended to the message.
   */
  constructor(readonly procedure: string, detail = "") {
    super("E_NO_PROVIDER", `no provider for ${procedure}${detail ? `: ${detail}` : ""}`);
  }
}

/** Who is calling a handler. */
export interface CallContext {
  /** The caller's proven node id. */
  from: NodeId;
  /** The realm the call was made in. */
  realm: string;
  /** The procedure called. */
  procedure: string;
}

/** An RPC handler: gets the arguments, returns the result (any CBOR value). */
export type RpcHandler = (args: unknown, context: CallContext) => unknown | Promise<unknown>;

/** A handle on an advertised procedure. */
export interface Advertisement {
  /** The procedure provided. */
  readonly procedure: string;
  /** The realm it is provided in. */
  readonly realm: string;
  /** Stop providing it: the handler is removed and the DHT announcement withdrawn. Idempotent. */
  close(): void;
  /** Same as `close()`, for `using`. */
  [Symbol.dispose](): void;
}

/** Options of `call`. */
export interface CallOptions {
  /** The realm; default the node's primary realm. */
  realm?: string;
  /** Overall deadline, ms. Default 10 000. */
  timeout?: number;
  /**
   * Deadline of one attempt at one provider, ms. Default: half the overall
   * deadline. Within it, an overdue reply (after `max(150, 8 × RTT)` ms)
   * makes the provider be pinged; an unanswered ping ends the attempt at
   * once, so a dead connection costs about twice that, not this deadline.
   */
  attemptTimeout?: number;
  /** Cancels the call. */
  signal?: AbortSignal;
  /** Authorization material sent with the call (e.g. a capability token). */
  auth?: unknown;
  /** How far the provider lookup may escalate in the hierarchy (`"city"`-style; needs a locality). */
  scope?: string | number;
}

/** Options of `advertise`. */
export interface AdvertiseOptions {
  /** The realm; default the node's primary realm. */
  realm?: string;
  /** Decides each call (a `"call"` operation, after the node's policy); refused callers get `NotAuthorizedError`. */
  authorize?: Authorize;
  /** Announce only up to this level of the hierarchy (and not in the flat DHT); needs a locality. */
  scope?: string | number;
}

/** Tunables of RPC. */
export interface RpcOptions {
  /** How long a provider list is reused, ms. Default 30 000. */
  providerCacheTtl?: number;
  /** Largest request or reply, bytes. Default 1 MiB. */
  maxMessage?: number;
  /** Where providers are found besides the flat DHT (the hierarchy, when the node has a locality). */
  locator?: ProviderLocator;
}

/** Validates an RPC request body. */
export const validateRpcRequest = object({ r: str({ max: 64, min: 1 }), p: str({ max: 255, min: 1 }), a: any() });

/** The key of the RPC service, for `node.service(RPC)` and `needs`. */
export const RPC: ServiceKey<RpcService> = serviceKey("rpc");

interface Provided {
  handler: RpcHandler;
  authorize?: Authorize;
}

/**
 * The RPC service (a default service of `Node`, named `rpc`; needs the DHT).
 *
 * @example
 * ```ts
 * import type { Node } from "../../mod.ts";
 * declare const node: Node;
 * node.advertise("math.add", (args) => {
 *   const { a, b } = args as { a: number; b: number };
 *   return { result: a + b };
 * });
 * const { result } = await node.call("math.add", { a: 2, b: 3 }) as { result: number };
 * ```
 */
export class RpcService implements NodeService {
  readonly name = "rpc";
  readonly needs: readonly ServiceKey<DhtService>[] = [DHT];
  #opts: Required<Omit<RpcOptions, "locator">>;
  #locator?: ProviderLocator;
  #node!: ServiceHost;
  #dht!: DhtService;
  #channel!: RequestChannel<unknown>;
  #handlers = new Map<string, Provided>();
  #providers = new Map<string, { ids: NodeId[]; fetchedAt: number }>();
  /** Providers that failed recently (hex → until), tried last. */
  #failed = new Map<string, number>();
  #off: Array<() => void> = [];
  #calls!: Counter;
  #failovers!: Counter;
  /** Calls made and served here, by `realm|procedure` (at most 256 procedures). */
  #activity = new Map<string, number>();

  /** Build the RPC service with `options` (every field has a default); the node starts it. */
  constructor(options: RpcOptions = {}) {
    const { locator, ...rest } = options;
    this.#locator = locator;
    this.#opts = { providerCacheTtl: 30_000, maxMessage: 1024 * 1024, ...rest };
  }

  start(node: ServiceHost): void {
    this.#node = node;
    this.#dht = node.use(DHT);
    this.#channel = new RequestChannel(node, RPC_PROTOCOL, any(), { maxFrame: this.#opts.maxMessage + 1024 });
    this.#calls = node.metrics.counter("macula_rpc_calls_total", "RPC calls made, by outcome.");
    this.#failovers = node.metrics.counter("macula_rpc_failovers_total", "RPC attempts that failed over.");
    this.#off.push(
      serveRequests(node, RPC_PROTOCOL, validateRpcRequest, (from, req, auth) => this.#serve(from, req, auth), {
        maxFrame: this.#opts.maxMessage + 1024,
      }),
    );
  }

  stop(): void {
    for (const off of this.#off) off();
    for (const key of [...this.#handlers.keys()]) {
      const [realm, procedure] = key.split("|");
      this.#dht.unprovide(realm, realmKey(realm, "rpc", procedure));
    }
    this.#handlers.clear();
  }

  status(): Record<string, unknown> {
    return { procedures: [...this.#handlers.keys()].map((k) => k.replace("|", " ")) };
  }

  #note(realm: string, procedure: string): void {
    const key = `${realm}|${procedure}`;
    const n = this.#activity.get(key);
    if (n === undefined && this.#activity.size >= 256) return;
    this.#activity.set(key, (n ?? 0) + 1);
  }

  /**
   * What this node knows of procedures, read-only (for the console): those
   * provided here or called from here, with the providers known without a
   * lookup (this node first when it provides it) and the calls made and
   * served here.
   */
  procedures(): { realm: string; procedure: string; providers: string[]; calls: number }[] {
    const keys = new Set([...this.#handlers.keys(), ...this.#activity.keys(), ...this.#providers.keys()]);
    return [...keys].map((key) => {
      const [realm, procedure] = key.split("|");
      const providers = (this.#providers.get(key)?.ids ?? []).map((id) => id.did);
      if (this.#handlers.has(key)) providers.unshift(this.#node.id.did);
      return { realm, procedure, providers, calls: this.#activity.get(key) ?? 0 };
    });
  }

  #realm(realm: string | undefined): string {
    const r = realm ?? this.#node.realms[0];
    if (!this.#node.realms.includes(r)) throw new RealmError(r);
    return r;
  }

  async #serve(from: NodeId, req: { r: string; p: string; a: unknown }, auth: unknown): Promise<unknown> {
    const provided = this.#handlers.get(`${req.r}|${req.p}`);
    if (!provided) throw new MaculaError("E_NO_SUCH_PROCEDURE", `${req.p} is not provided here`);
    this.#note(req.r, req.p);
    const op = { kind: "call", name: req.p, realm: req.r, auth } as const;
    let ok = this.#node.authorize(from, op, provided.authorize);
    if (ok instanceof Promise) ok = await ok;
    if (!ok) throw new NotAuthorizedError(`not authorized to call ${req.p}`);
    try {
      return await provided.handler(req.a, { from, realm: req.r, procedure: req.p });
    } catch (error) {
      throw new MaculaError("E_HANDLER", String((error as Error)?.message ?? error));
    }
  }

  /**
   * Provide `procedure` (dot-separated name) with `handler` and announce it
   * in the DHT of the realm; `options.authorize` decides each call. Throws
   * `TopicError` for a malformed name, `RealmError` for a realm the node does
   * not run in, and a `MaculaError` with code `E_DUPLICATE` if the procedure
   * is already advertised in the realm.
   */
  advertise(procedure: string, handler: RpcHandler, options: AdvertiseOptions = {}): Advertisement {
    validateTopic(procedure);
    const realm = this.#realm(options.realm);
    const key = `${realm}|${procedure}`;
    if (this.#handlers.has(key)) throw new MaculaError("E_DUPLICATE", `${procedure} is already advertised in ${realm}`);
    const provided: Provided = { handler, authorize: options.authorize };
    this.#handlers.set(key, provided);
    const dhtKey = realmKey(realm, "rpc", procedure);
    const warn = (error: unknown) =>
      this.#node.log.warn("announcing procedure failed", { procedure, error: (error as Error).message });
    const locator = this.#locator?.realm === realm ? this.#locator : undefined;
    locator?.announce(procedure, options.scope).catch(warn);
    if (!locator || options.scope === undefined) this.#dht.provide(realm, dhtKey).catch(warn);
    const close = () => {
      if (this.#handlers.get(key) !== provided) return;
      this.#handlers.delete(key);
      this.#dht.unprovide(realm, dhtKey);
      locator?.withdraw(procedure);
    };
    return { procedure, realm, close, [Symbol.dispose]: close };
  }

  async #lookup(realm: string, procedure: string, force: boolean, signal?: AbortSignal, scope?: string | number) {
    const key = `${realm}|${procedure}`;
    const cached = scope === undefined ? this.#providers.get(key) : undefined; // scoped: the hierarchy caches
    if (cached && !force && Date.now() - cached.fetchedAt < this.#opts.providerCacheTtl) return cached.ids;
    // The hierarchy first (when the node has one); the flat DHT unless the caller bounded the scope.
    const near = this.#locator?.realm === realm ? await this.#locator.find(procedure, scope, force) : [];
    const records = near.length > 0 || (scope !== undefined && this.#locator?.realm === realm)
      ? []
      : await this.#dht.findProviders(realm, realmKey(realm, "rpc", procedure), { limit: 8, signal });
    const ids = [...near, ...records.map((r) => r.provider.id)].filter((id) => !id.equals(this.#node.id));
    if (scope === undefined) this.#providers.set(key, { ids, fetchedAt: Date.now() });
    return ids;
  }

  /** Healthy before recently failed, connected before unconnected, then by measured latency. */
  #rank(ids: NodeId[]): NodeId[] {
    const now = Date.now();
    const score = (id: NodeId) => {
      const failed = (this.#failed.get(id.hex) ?? 0) > now ? 1 : 0;
      const connected = this.#node.connection(id) ? 0 : 1;
      const rtt = this.#node.peer(id)?.rtt ?? 1e6;
      return failed * 1e12 + connected * 1e9 + rtt;
    };
    return [...ids].sort((a, b) => score(a) - score(b));
  }

  /**
   * Call `procedure` with `args` on the best provider (a local handler
   * first), failing over to the next one as needed. Rejects with
   * `NoProviderError`, `TimeoutError`, `RemoteHandlerError`,
   * `NotAuthorizedError`, `AbortedError`, `RealmError` or `TopicError`.
   */
  async call(procedure: string, args: unknown, options: CallOptions = {}): Promise<unknown> {
    validateTopic(procedure);
    const realm = this.#realm(options.realm);
    this.#note(realm, procedure);
    const timeout = options.timeout ?? 10_000;
    const deadline = Date.now() + timeout;
    const attemptTimeout = options.attemptTimeout ?? Math.max(500, timeout / 2);
    const signal = options.signal;
    if (signal?.aborted) throw new AbortedError(`call ${procedure} was cancelled`);

    const local = this.#handlers.get(`${realm}|${procedure}`);
    if (local) {
      try {
        const result = await local.handler(args, { from: this.#node.id, realm, procedure });
        this.#calls.inc({ outcome: "ok" });
        return result;
      } catch (error) {
        this.#calls.inc({ outcome: "remote_error" });
        throw new RemoteHandlerError(procedure, String((error as Error)?.message ?? error));
      }
    }

    const tried = new Set<string>();
    const failures: string[] = [];
    let refreshed = false;
    while (true) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      let candidates: NodeId[];
      try {
        candidates = (await this.#lookup(realm, procedure, refreshed, signal, options.scope)).filter((id) =>
          !tried.has(id.hex)
        );
      } catch (error) {
        if (error instanceof AbortedError) throw error;
        candidates = [];
      }
      for (const provider of this.#rank(candidates)) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        tried.add(provider.hex);
        const attempt = new AbortController();
        const unwatch = watchAttempt({
          rtt: this.#node.peer(provider)?.rtt,
          ping: (probe) => this.#node.ping(provider, { signal: probe }),
          onDead: (why) => attempt.abort(new ConnectionClosedError(`${provider.short}: ${why}`)),
        });
        try {
          const result = await this.#channel.request(provider, { r: realm, p: procedure, a: args }, {
            timeout: Math.min(left, attemptTimeout),
            signal: signal ? AbortSignal.any([signal, attempt.signal]) : attempt.signal,
            auth: options.auth,
          });
          this.#calls.inc({ outcome: "ok" });
          return result;
        } catch (caught) {
          // An attempt the liveness watch gave up on fails over like a dead connection.
          const error = attempt.signal.aborted && !signal?.aborted ? attempt.signal.reason : caught;
          if (error instanceof AbortedError) {
            this.#calls.inc({ outcome: "cancelled" });
            throw error;
          }
          if (error instanceof RemoteHandlerError) {
            this.#calls.inc({ outcome: "remote_error" });
            throw new RemoteHandlerError(procedure, error.remoteMessage);
          }
          if (error instanceof NotAuthorizedError) {
            this.#calls.inc({ outcome: "unauthorized" });
            throw error;
          }
          // Dead, slow, unreachable, or no longer a provider: try the next one, and
          // try this one last for a while.
          this.#failovers.inc();
          this.#failed.set(provider.hex, Date.now() + 30_000);
          if (this.#failed.size > 1024) this.#failed.delete(this.#failed.keys().next().value!);
          failures.push(`${provider.short}: ${(error as Error).message}`);
        } finally {
          unwatch();
        }
      }
      if (refreshed) break;
      refreshed = true; // providers failed or none cached: ask the DHT again
    }
    if (Date.now() >= deadline) {
      this.#calls.inc({ outcome: "timeout" });
      throw new TimeoutError(
        `call ${procedure} timed out after ${timeout} ms${failures.length ? ` (${failures.join("; ")})` : ""}`,
      );
    }
    this.#calls.inc({ outcome: "no_provider" });
    throw new NoProviderError(procedure, failures.length ? failures.join("; ") : `none found in realm ${realm}`);
  }
}

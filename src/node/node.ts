/**
 * `NodeCore`: a running mesh node without any service of its own. It owns
 * the identity, the links, the connection manager, the peer store and the
 * default-deny protocol registry, hosts the services it is given (each sees
 * it only through a `ServiceHost`), and offers `connect`, `expose`/`request`,
 * `ping` and events. The node users start, with the DHT, pub/sub and RPC,
 * is `Node` in `src/api/node.ts`. Construction lives in `node-wiring.ts`,
 * the protocols every node runs in `core-protocols.ts`, its own record in
 * `self-record.ts`, its summaries in `summaries.ts`.
 *
 * @module
 */
import type { KeyPair } from "../identity/ed25519.ts";
import { NodeId } from "../identity/node-id.ts";
import type { NodeRecord } from "../identity/node-record.ts";
import { Logger } from "../log/logger.ts";
import { currentPlatform } from "../platform/current.ts";
import type { Platform } from "../platform/types.ts";
import { formatAddress, parseAddress, type PeerAddress } from "../transport/address.ts";
import type { Connection, StreamHandler } from "../transport/connection.ts";
import { DialError } from "../transport/errors.ts";
import { Emitter } from "../util/events.ts";
import type { NodeEvents, NodeService, ServiceKey } from "./service.ts";
import type { Transport } from "../transport/transport.ts";
import { domainSeparated } from "../identity/domain-signature.ts";
import {
  DEFAULT_PORT,
  DEFAULT_REALM,
  type Exposure,
  ListenError,
  type NodeOptions,
  type NodeStatus,
  type PeerSummary,
} from "./options.ts";

export { DEFAULT_PORT, DEFAULT_REALM, type Exposure, ListenError, type NodeOptions, type NodeStatus, type PeerSummary };
import type { ConnectionManager } from "./connection-manager.ts";
import { installCoreProtocols } from "./core-protocols.ts";
import { appProtocol, type ExposedHandler, exposedStreamHandler, type RequestOptions, requestOver } from "./expose.ts";
import { type Authorize, decide } from "./authorize.ts";
import { ServiceSet, type SharedHost } from "./service-set.ts";
import type { NodeMetrics } from "./node-metrics.ts";
import { listenError, loadKeyPair, type NodeParts, wireNode } from "./node-wiring.ts";
import type { PeerStore } from "./peer-store.ts";
import { ping } from "./ping.ts";
import type { HandleOptions, ProtocolRegistry } from "./protocol-registry.ts";
import { SelfRecord } from "./self-record.ts";
import { nodeStatus, peerSummaries } from "./summaries.ts";

/** What a node is made of when constructed (see `NodeCore.launch`). */
export type NodeInit = NodeParts & {
  keyPair: KeyPair;
  platform: Platform;
  log: Logger;
  realms: string[];
  roles: string[];
  policy?: Authorize;
};

/**
 * A mesh node with only the services it is given. Applications use `Node`
 * (from `mod.ts`), which adds the DHT, pub/sub and RPC.
 *
 * @example
 * ```ts
 * import { NodeCore } from "./node.ts";
 * await using node = await NodeCore.start({ dataDir: ".macula", port: 0 });
 * node.expose("greet", (from, name) => `hello ${name} from ${from.short}`);
 * console.log(node.id.did, node.addrs);
 * ```
 */
export class NodeCore {
  /** This node's id. */
  readonly id: NodeId;
  /** The node's metrics: the Prometheus registry (`metrics.registry.render()`) and the core counters. */
  readonly metrics: NodeMetrics;
  /** Logger of the node. */
  readonly log: Logger;
  /**
   * What the node knows about other nodes (addresses, records, round-trip
   * times).
   *
   * @internal The peer store is an implementation detail, used by the CLI
   * and tests; applications use `peers()`, `connect()` and `ping()`.
   */
  readonly peerStore: PeerStore;
  readonly #keyPair: KeyPair;
  readonly #platform: Platform;
  readonly #registry: ProtocolRegistry;
  readonly #manager: ConnectionManager;
  readonly #transports: Transport[];
  readonly #realms: string[];
  readonly #self: SelfRecord;
  readonly #startedAt = Date.now();
  readonly #events = new Emitter<NodeEvents>();
  readonly #services: ServiceSet;
  readonly #policy?: Authorize;
  #stopped = false;

  /** Use `start` (or a subclass's `start`, through `launch`). */
  protected constructor(init: NodeInit) {
    this.#keyPair = init.keyPair;
    this.id = new NodeId(init.keyPair.publicKey);
    this.#platform = init.platform;
    this.log = init.log;
    this.metrics = init.metrics;
    this.#registry = init.registry;
    this.peerStore = init.peerStore;
    this.#manager = init.manager;
    this.#transports = init.transports;
    this.#realms = init.realms;
    this.#self = new SelfRecord(init);
    this.#policy = init.policy;
    this.#services = new ServiceSet(this.#serviceHost(), this.log);
    // The stream gate asks the services' policies too, once there are any.
    const gate = init.registry;
    const policy = init.policy;
    gate.setPolicy((subject, op) =>
      this.#services.policies.length ? this.authorize(subject, op) : policy ? policy(subject, op) : true
    );
  }

  /** Start a node with `options.services` only: load the identity, listen, join seeds. */
  static start(options: NodeOptions = {}): Promise<NodeCore> {
    return NodeCore.launch((init) => new NodeCore(init), options, options.services ?? []);
  }

  /**
   * Start a node built by `make` (a subclass's constructor) that hosts
   * `services`: load the identity, listen, start the services in dependency
   * order, join seeds. If anything fails, what started is stopped again.
   */
  protected static async launch<T extends NodeCore>(
    make: (init: NodeInit) => T,
    options: NodeOptions,
    services: readonly NodeService[],
  ): Promise<T> {
    const platform = options.platform ?? currentPlatform();
    const log = options.logger ?? new Logger();
    const keyPair = options.keyPair ?? await loadKeyPair(options, platform, log);
    const realms = options.realms?.length ? [...new Set(options.realms)] : [DEFAULT_REALM];
    const { metrics, registry, transports, context, peerStore, manager } = wireNode(options, platform, log, keyPair);
    const node = make({
      keyPair,
      platform,
      log,
      metrics,
      registry,
      peerStore,
      manager,
      transports,
      context,
      realms,
      roles: options.roles ?? [],
      policy: options.authorize,
    });
    node.#installCoreProtocols(); // before listening: identify must answer the first inbound connection
    try {
      for (const t of transports) {
        try {
          await t.start(context);
        } catch (error) {
          throw listenError(t.kind, options, error);
        }
      }
    } catch (error) {
      for (const t of transports) await t.close().catch(() => {});
      throw error;
    }
    manager.start();
    try {
      await node.#services.start(services);
    } catch (error) {
      await node.stop();
      throw error;
    }
    for (const seed of options.seeds ?? []) node.addSeed(seed);
    log.info("node started", { id: node.id.did, addrs: node.addrs.join(" ") });
    return node;
  }

  /** The running service of `key` (a `ServiceKey`, or a name), if any. */
  service<T extends NodeService>(key: ServiceKey<T> | string): T | undefined {
    return this.#services.get(key);
  }

  /** Decide `operation` by `subject` with the node-wide policy, the services' policies, then `local`. */
  authorize(subject: NodeId, operation: Parameters<Authorize>[1], local?: Authorize): boolean | Promise<boolean> {
    const policies = this.#services.policies;
    if (policies.length === 0) return decide(subject, operation, this.#policy, local);
    return decide(subject, operation, this.#policy, ...policies, local);
  }

  /** The host every service gets (the set adds its logger and `use`). */
  #serviceHost(): SharedHost {
    return {
      id: this.id,
      realms: this.#realms,
      metrics: this.metrics.registry,
      record: () => this.record(),
      sign: (domain, message) => this.#keyPair.sign(domainSeparated(domain, message)),
      connect: (peer, options) => this.connect(peer, options),
      connection: (peer) => this.connection(peer),
      peers: () => this.#manager.connections().map((c) => c.remoteId),
      peer: (id) => {
        const entry = this.peerStore.get(id);
        const connected = !!this.#manager.get(id);
        if (!entry && !connected) return undefined;
        return { id, record: entry?.record, rtt: entry?.rtt, connected };
      },
      probe: (address, expected, options) => this.#probe(address, expected, options),
      learn: (record) => void this.peerStore.upsertRecord(record),
      advertiseAs: (owner, addresses) => this.#self.setExtra(owner, addresses),
      ping: (peer, options) => this.ping(peer, options),
      handle: (protocol, handler, options) => this.handle(protocol, handler, options),
      on: (event, listener) => this.#events.on(event, listener),
      emit: (event, ...args) => this.#events.emit(event, ...args),
      authorize: (subject, operation, local) => this.authorize(subject, operation, local),
    };
  }

  /** `ServiceHost.probe`: a fresh connection through the transport, closed at once. */
  async #probe(
    address: PeerAddress,
    expected: NodeId,
    options: { signal?: AbortSignal; timeout?: number } = {},
  ): Promise<void> {
    if (this.#stopped) throw new DialError("node is stopped");
    const transport = this.#transports.find((t) => t.canDial(address));
    if (!transport) throw new DialError(`no transport here can dial ${formatAddress(address)}`);
    const conn = await transport.dial(address, expected, { ...options, fresh: true });
    // At once: the peer must not get to adopt it (its identify of this connection fails).
    conn.close("probe done");
  }

  #installCoreProtocols(): void {
    installCoreProtocols({
      manager: this.#manager,
      registry: this.#registry,
      peerStore: this.peerStore,
      metrics: this.metrics.registry,
      log: this.log,
      startedAt: this.#startedAt,
      record: () => this.record(),
      emit: (event, ...args) => this.#events.emit(event, ...args),
    });
  }

  /** The did:key of this node. */
  get did(): string {
    return this.id.did;
  }

  /** Realms this node runs in (the first is the primary). */
  get realms(): string[] {
    return [...this.#realms];
  }

  /** Dialable addresses of this node (`quic://host:port/did:key:…`). */
  get addrs(): string[] {
    return this.#self.addresses().map((a) => formatAddress(a.type === "direct" ? { ...a, id: this.id } : a));
  }

  /** The node's current signed record (re-signed when addresses change). */
  record(): NodeRecord {
    return this.#self.current();
  }

  /**
   * Keep the node at `address` (with its `did:key`) connected, reconnecting
   * with backoff. Throws `AddressError` for a malformed address.
   */
  addSeed(address: string): NodeId {
    const addr = parseAddress(address, { requireId: true });
    const id = addr.id!;
    if (id.equals(this.id)) {
      this.log.warn("ignoring seed that is this node itself", { seed: address });
      return id;
    }
    const addrs: PeerAddress[] = [addr];
    const canDial = (a: PeerAddress) => this.#transports.some((t) => t.canDial(a));
    if (addr.type === "direct" && addr.kind === "quic" && !canDial(addr) && canDial({ ...addr, kind: "tcp" })) {
      // Nodes listen for TCP on their QUIC port too; try that instead of giving up.
      this.log.warn("this node has no QUIC; trying the seed over TCP on the same port", { seed: address });
      addrs.push({ ...addr, kind: "tcp" });
    }
    this.peerStore.addAddresses(id, addrs);
    this.#manager.protect(id);
    return id;
  }

  /**
   * Connect to a peer: a full address (`quic://…/did:key:…`), a `did:key`
   * whose addresses are known, or a `NodeId`. Reuses an open connection;
   * with `direct: true`, not a relayed one: a direct connection is dialed
   * (relayed addresses are skipped) and, once made, used instead.
   */
  connect(target: string | NodeId, options: { signal?: AbortSignal; direct?: boolean } = {}): Promise<Connection> {
    if (this.#stopped) return Promise.reject(new DialError("node is stopped"));
    let id: NodeId;
    let addrs: PeerAddress[] | undefined;
    if (typeof target === "string") {
      if (target.startsWith("did:key:")) {
        id = NodeId.fromDid(target);
      } else {
        const addr = parseAddress(target, { requireId: true });
        id = addr.id!;
        addrs = [addr];
      }
    } else {
      id = target;
    }
    return this.#manager.dial(id, addrs, options);
  }

  /** The open connection to `id`, if any. */
  connection(id: NodeId): Connection | undefined {
    return this.#manager.get(id);
  }

  /**
   * Register a stream handler for `protocol` (default-deny: only
   * registered protocols are accepted). Returns a function that unregisters it.
   */
  handle(protocol: string, handler: StreamHandler, options: HandleOptions = {}): () => void {
    return this.#registry.handle(protocol, handler, options);
  }

  /**
   * Expose an application handler under `name`, callable by other nodes
   * with `request`. Closed by default; `authorize` decides each request (a
   * `"request"` operation, after the node-wide policy), and a refused caller
   * gets `NotAuthorizedError`.
   *
   * @example
   * ```ts
   * import type { NodeCore } from "./node.ts";
   * declare const node: NodeCore;
   * const trusted = new Set<string>();
   * node.expose("chat", (from, msg) => console.log(from.did, msg), {
   *   authorize: (peer) => trusted.has(peer.did),
   * });
   * ```
   */
  expose(
    name: string,
    handler: ExposedHandler,
    options: { authorize?: Authorize; maxPayload?: number } = {},
  ): Exposure {
    const local = options.authorize;
    const gate = (from: NodeId, auth: unknown) => this.authorize(from, { kind: "request", name, auth }, local);
    const off = this.#registry.handle(
      appProtocol(name),
      exposedStreamHandler(name, handler, { maxPayload: options.maxPayload, gate }),
    );
    return { name, close: off, [Symbol.dispose]: off };
  }

  /**
   * Call the handler `name` exposed by `peer` and return its result.
   * Rejects with `ProtocolRefusedError` when not exposed (or the peer's
   * stream gate refuses us), `NotAuthorizedError` when the peer refused the
   * request, `RemoteHandlerError` when it threw, `TimeoutError`,
   * `AbortedError`, `DialError`.
   */
  async request(peer: string | NodeId, name: string, payload: unknown, options: RequestOptions = {}): Promise<unknown> {
    const conn = await this.connect(peer, { signal: options.signal });
    return requestOver(conn, name, payload, options);
  }

  /** Round-trip time to `peer` in ms (connects if needed). */
  async ping(peer: string | NodeId, options: { signal?: AbortSignal } = {}): Promise<number> {
    const conn = await this.connect(peer, options);
    const [rtt] = await ping(conn, 1, options.signal);
    this.peerStore.setRtt(conn.remoteId, rtt);
    return rtt;
  }

  /**
   * Listen to node events: `peer:connect`, `peer:disconnect` (connections),
   * `peer:up`, `peer:down` (membership). Returns an unsubscribe function.
   */
  on<K extends keyof NodeEvents>(event: K, listener: (...args: NodeEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** Connected peers. */
  peers(): PeerSummary[] {
    return peerSummaries(this.#manager.connections(), this.peerStore, this.#services);
  }

  /** The node's status. */
  status(): NodeStatus {
    return nodeStatus({
      id: this.id,
      addrs: this.addrs,
      realms: this.realms,
      platform: this.#platform,
      startedAt: this.#startedAt,
      peers: this.#manager.connections().length,
      observedAddrs: this.peerStore.observed.texts(),
      services: this.#services,
    });
  }

  /** Protocols this node accepts. */
  protocols(): string[] {
    return this.#registry.protocols();
  }

  /** Stop: services, then every connection and listener. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#services.stop();
    this.#manager.stop();
    for (const t of this.#transports) await t.close().catch(() => {});
    this.log.info("node stopped", { id: this.id.short });
  }

  /** `await using node = await Node.start()` stops it at scope exit. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

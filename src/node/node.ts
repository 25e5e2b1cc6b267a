/**
 * `Node`: a running mesh node. It owns the identity, the links, the
 * connection manager, the peer store and the default-deny protocol
 * registry, and offers the application API. Its construction lives in
 * `node-wiring.ts`, the protocols every node runs in `core-protocols.ts`,
 * its own record in `self-record.ts`, its summaries in `summaries.ts`.
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
import type { NodeEvents, NodeService } from "./service.ts";
import type { Transport } from "../transport/transport.ts";
import { DhtService } from "../dht/dht.ts";
import { type PublishResult, PubSubService } from "../pubsub/pubsub.ts";
import type { MessageHandler, Subscription } from "../pubsub/subscription.ts";
import { type Advertisement, type CallOptions, type RpcHandler, RpcService } from "../rpc/rpc.ts";
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
import type { NodeMetrics } from "./node-metrics.ts";
import { listenError, loadKeyPair, type NodeParts, wireNode } from "./node-wiring.ts";
import type { PeerStore } from "./peer-store.ts";
import { ping } from "./ping.ts";
import type { Authorize, HandleOptions, ProtocolRegistry } from "./protocol-registry.ts";
import { SelfRecord } from "./self-record.ts";
import { nodeStatus, peerSummaries } from "./summaries.ts";

/**
 * A mesh node.
 *
 * @example
 * ```ts
 * import { Node } from "../../mod.ts";
 * await using node = await Node.start({ dataDir: ".macula", port: 0 });
 * node.expose("greet", (from, name) => `hello ${name} from ${from.short}`);
 * console.log(node.id.did, node.addrs);
 * ```
 */
export class Node {
  /** This node's id. */
  readonly id: NodeId;
  /** The node's metrics (Prometheus). */
  readonly metrics: NodeMetrics;
  /** Logger of the node. */
  readonly log: Logger;
  /** What the node knows about other nodes. */
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
  readonly #services: NodeService[] = [];
  #stopped = false;

  private constructor(
    init: NodeParts & { keyPair: KeyPair; platform: Platform; log: Logger; realms: string[]; roles: string[] },
  ) {
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
  }

  /** Start a node: load the identity, listen, join seeds. */
  static async start(options: NodeOptions = {}): Promise<Node> {
    const platform = options.platform ?? currentPlatform();
    const log = options.logger ?? new Logger();
    const keyPair = options.keyPair ?? await loadKeyPair(options, platform, log);
    const realms = options.realms?.length ? [...new Set(options.realms)] : [DEFAULT_REALM];
    const { metrics, registry, transports, context, peerStore, manager } = wireNode(options, platform, log, keyPair);
    const node = new Node({
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
    });
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
    node.#installCoreProtocols();
    manager.start();
    try {
      const builtIn: NodeService[] = [
        new DhtService(options.dht),
        new PubSubService(options.pubsub),
        new RpcService(options.rpc),
      ];
      for (const service of [...builtIn, ...(options.services ?? [])]) await node.#startService(service);
    } catch (error) {
      await node.stop();
      throw error;
    }
    for (const seed of options.seeds ?? []) node.addSeed(seed);
    log.info("node started", { id: node.id.did, addrs: node.addrs.join(" ") });
    return node;
  }

  async #startService(service: NodeService): Promise<void> {
    if (this.#services.some((s) => s.name === service.name)) throw new Error(`service ${service.name} started twice`);
    await service.start({
      node: this,
      keyPair: this.#keyPair,
      emit: (event, ...args) => this.#events.emit(event, ...args),
    });
    this.#services.push(service);
  }

  /** The Kademlia DHT. */
  get dht(): DhtService {
    return this.service<DhtService>("dht")!;
  }

  /** Pub/sub. */
  get pubsub(): PubSubService {
    return this.service<PubSubService>("pubsub")!;
  }

  /**
   * Subscribe to `pattern` (dot-separated; `*` one segment, trailing `>` the
   * rest) in the primary realm or `options.realm`. Without a handler, iterate
   * the returned subscription with `for await`.
   */
  subscribe(pattern: string, handler?: MessageHandler, options: { realm?: string } = {}): Subscription {
    return this.pubsub.subscribe(pattern, handler, options);
  }

  /** Publish `payload` (any CBOR value) on `topic` to every subscriber in the realm. */
  publish(topic: string, payload: unknown, options: { realm?: string } = {}): Promise<PublishResult> {
    return this.pubsub.publish(topic, payload, options);
  }

  /** RPC. */
  get rpc(): RpcService {
    return this.service<RpcService>("rpc")!;
  }

  /** Provide `procedure` with `handler` (announced in the DHT of the realm). */
  advertise(procedure: string, handler: RpcHandler, options: { realm?: string } = {}): Advertisement {
    return this.rpc.advertise(procedure, handler, options);
  }

  /**
   * Call `procedure` on the best provider in the realm, failing over to the
   * next one if it dies or times out. Rejects with `NoProviderError`,
   * `TimeoutError`, `RemoteHandlerError` or `AbortedError`.
   */
  call(procedure: string, args: unknown, options: CallOptions = {}): Promise<unknown> {
    return this.rpc.call(procedure, args, options);
  }

  /** The running service named `name`, if any. */
  service<T extends NodeService>(name: string): T | undefined {
    return this.#services.find((s) => s.name === name) as T | undefined;
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
   * whose addresses are known, or a `NodeId`. Reuses an open connection.
   */
  connect(target: string | NodeId, options: { signal?: AbortSignal } = {}): Promise<Connection> {
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
   * with `request`. Closed by default; `authorize` restricts callers.
   *
   * @example
   * ```ts
   * import type { Node } from "./node.ts";
   * declare const node: Node;
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
    const off = this.#registry.handle(appProtocol(name), exposedStreamHandler(name, handler, options.maxPayload), {
      authorize: options.authorize,
    });
    return { name, close: off, [Symbol.dispose]: off };
  }

  /**
   * Call the handler `name` exposed by `peer` and return its result.
   * Rejects with `ProtocolRefusedError` when not exposed to us,
   * `RemoteHandlerError` when it threw, `TimeoutError`, `AbortedError`,
   * `DialError`.
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
    for (const service of [...this.#services].reverse()) {
      try {
        await service.stop();
      } catch (error) {
        this.log.warn("service failed to stop cleanly", { service: service.name, error: (error as Error).message });
      }
    }
    this.#manager.stop();
    for (const t of this.#transports) await t.close().catch(() => {});
    this.log.info("node stopped", { id: this.id.short });
  }

  /** `await using node = await Node.start()` stops it at scope exit. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

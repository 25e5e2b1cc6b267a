/**
 * `Node`: a running mesh node. It owns the identity, the links, the
 * connection manager, the peer store and the default-deny protocol
 * registry, and offers the application API.
 *
 * @module
 */
import type { KeyPair } from "../identity/ed25519.ts";
import { loadOrCreateIdentity } from "../identity/key-store.ts";
import { NodeId } from "../identity/node-id.ts";
import { createNodeRecord, type NodeRecord } from "../identity/node-record.ts";
import { Logger } from "../log/logger.ts";
import { currentPlatform } from "../platform/current.ts";
import type { Platform } from "../platform/types.ts";
import { formatAddress, parseAddress, type PeerAddress } from "../transport/address.ts";
import type { Connection, ConnectionOptions, StreamHandler } from "../transport/connection.ts";
import { DialError } from "../transport/errors.ts";
import type { TransportKind } from "../transport/session.ts";
import { Emitter } from "../util/events.ts";
import type { NodeEvents, NodeService } from "./service.ts";
import type { Transport, TransportContext } from "../transport/transport.ts";
import type { MaculaError } from "../util/errors.ts";
import type { WireError } from "../wire/errors.ts";
import { VERSION } from "../version.ts";
import { DhtService } from "../dht/dht.ts";
import { type PublishResult, PubSubService } from "../pubsub/pubsub.ts";
import type { MessageHandler, Subscription } from "../pubsub/subscription.ts";
import { type Advertisement, type CallOptions, type RpcHandler, RpcService } from "../rpc/rpc.ts";
import { announceAddresses } from "./addresses.ts";
import {
  DEFAULT_PORT,
  DEFAULT_REALM,
  type Exposure,
  ListenError,
  type NodeOptions,
  type NodeStatus,
  type PeerSummary,
} from "./options.ts";
import { createTransports } from "./transports.ts";

export { DEFAULT_PORT, DEFAULT_REALM, type Exposure, ListenError, type NodeOptions, type NodeStatus, type PeerSummary };
import { ConnectionManager } from "./connection-manager.ts";
import { appProtocol, type ExposedHandler, exposedStreamHandler, type RequestOptions, requestOver } from "./expose.ts";
import { handleIdentify, identify, IDENTIFY_PROTOCOL } from "./identify.ts";
import { createNodeMetrics, type NodeMetrics } from "./node-metrics.ts";
import { PeerStore } from "./peer-store.ts";
import { handlePing, ping, PING_PROTOCOL } from "./ping.ts";
import { type Authorize, type HandleOptions, ProtocolRegistry } from "./protocol-registry.ts";

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
  readonly #transports: Map<TransportKind, Transport>;
  readonly #realms: string[];
  readonly #roles: string[];
  readonly #startedAt = Date.now();
  readonly #events = new Emitter<NodeEvents>();
  readonly #services: NodeService[] = [];
  #record: NodeRecord | null = null;
  #addrCache: { at: number; addrs: PeerAddress[] } | null = null;
  #recordAddrs = "";
  #stopped = false;

  private constructor(init: {
    keyPair: KeyPair;
    platform: Platform;
    log: Logger;
    metrics: NodeMetrics;
    registry: ProtocolRegistry;
    peerStore: PeerStore;
    manager: ConnectionManager;
    transports: Map<TransportKind, Transport>;
    realms: string[];
    roles: string[];
  }) {
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
    this.#roles = init.roles;
  }

  /** Start a node: load the identity, listen, join seeds. */
  static async start(options: NodeOptions = {}): Promise<Node> {
    const platform = options.platform ?? currentPlatform();
    const log = options.logger ?? new Logger();
    let keyPair = options.keyPair;
    if (!keyPair) {
      const loaded = await loadOrCreateIdentity(platform.fs, options.dataDir ?? ".macula");
      keyPair = loaded.keyPair;
      if (loaded.created) log.info("created a new identity", { path: loaded.path });
      if (loaded.warning) log.warn(loaded.warning);
    }
    const localId = new NodeId(keyPair.publicKey);
    const realms = options.realms?.length ? [...new Set(options.realms)] : [DEFAULT_REALM];
    const metrics = createNodeMetrics();
    const registry = new ProtocolRegistry({
      onRefused: (protocol, peer, why) => {
        metrics.streamsRefused.inc({ reason: why });
        log.debug("refused stream", { protocol, peer: peer.short, why });
      },
    });
    const connectionOptions: ConnectionOptions = {
      maxInboundStreams: options.limits?.maxStreamsPerConnection ?? 1024,
      onProtocolViolation: (conn, error) => {
        metrics.protocolViolations.inc();
        metrics.wireErrors.inc({ type: (error as WireError).messageType ?? "unknown" });
        log.warn("peer violated the wire protocol; disconnecting", { peer: conn.remoteId.short, error: error.message });
      },
      onHandlerError: (conn, protocol, error) => {
        metrics.handlerErrors.inc({ protocol });
        log.warn("stream handler failed", {
          peer: conn.remoteId.short,
          protocol,
          error: (error as Error)?.message ?? String(error),
        });
      },
    };
    const ctx: TransportContext = {
      keyPair,
      localId,
      gate: registry.gate,
      connectionOptions,
      onInbound: (conn) => manager.accept(conn),
      onHandshakeError: (error, remote) => {
        metrics.handshakeFailures.inc({ code: (error as MaculaError).code ?? "E_UNKNOWN" });
        log.debug("inbound handshake failed", { remote, error: error.message });
      },
    };
    const transports = createTransports(options, platform, ctx);
    if (!options.transports && !options.memory && !platform.quic) {
      log.warn(
        platform.runtime === "deno"
          ? "QUIC is unavailable (Deno needs --unstable-net); using TCP only"
          : `QUIC is not available on ${platform.runtimeVersion}; using TCP only`,
      );
    }
    const peerStore = new PeerStore({ isPinned: (id) => manager.isProtected(id) || !!manager.get(id) });
    const manager: ConnectionManager = new ConnectionManager({
      localId,
      transports,
      peerStore,
      log,
      metrics,
      limits: options.limits,
    });
    const node = new Node({
      keyPair,
      platform,
      log,
      metrics,
      registry,
      peerStore,
      manager,
      transports,
      realms,
      roles: options.roles ?? [],
    });
    try {
      for (const [kind, t] of transports) {
        try {
          await t.listen();
        } catch (error) {
          throw new ListenError(
            `cannot listen for ${kind} on ${options.host ?? "0.0.0.0"}:${options.port ?? DEFAULT_PORT}: ${
              (error as Error).message
            }`,
            { cause: error },
          );
        }
      }
    } catch (error) {
      for (const t of transports.values()) await t.close().catch(() => {});
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
    log.info("node started", { id: localId.did, addrs: node.addrs.join(" ") });
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
    this.#manager.on("peer:connect", (conn) => this.#events.emit("peer:connect", conn));
    this.#manager.on("peer:disconnect", (id, info) => this.#events.emit("peer:disconnect", id, info));
    this.#registry.handle(PING_PROTOCOL, handlePing);
    this.#registry.handle(IDENTIFY_PROTOCOL, (stream) => handleIdentify(stream, () => this.record()));
    this.#manager.on("peer:connect", (conn) => this.#onPeerConnect(conn));
    this.metrics.registry.gauge("macula_peers", "Connected peers.", () => this.#manager.connections().length);
    this.metrics.registry.gauge("macula_connections", "Open connections by transport.", () => {
      const counts = new Map<string, number>();
      for (const c of this.#manager.connections()) counts.set(c.transport, (counts.get(c.transport) ?? 0) + 1);
      return [...counts].map(([transport, n]) => [{ transport }, n]);
    });
    this.metrics.registry.gauge("macula_known_peers", "Peers in the peer store.", () => this.peerStore.size);
    this.metrics.registry.gauge(
      "macula_uptime_seconds",
      "Seconds since the node started.",
      () => Math.round((Date.now() - this.#startedAt) / 1000),
    );
  }

  async #onPeerConnect(conn: Connection): Promise<void> {
    try {
      const record = await identify(conn);
      this.peerStore.upsertRecord(record);
      this.#events.emit("peer:identify", record, conn);
      const [rtt] = await ping(conn);
      this.peerStore.setRtt(conn.remoteId, rtt);
    } catch (error) {
      if (!conn.isClosed) {
        this.log.debug("identify/ping of new peer failed", {
          peer: conn.remoteId.short,
          error: (error as Error).message,
        });
      }
    }
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
    return this.#announced().map((a) => formatAddress({ ...a, id: this.id }));
  }

  #announced(): PeerAddress[] {
    // Interface addresses change rarely (DHCP, Wi-Fi); re-read them at most every 10 s.
    const now = Date.now();
    if (!this.#addrCache || now - this.#addrCache.at > 10_000) {
      const listen = [...this.#transports.values()].flatMap((t) => t.listenAddresses);
      this.#addrCache = { at: now, addrs: announceAddresses(listen, this.#platform.process.interfaces()) };
    }
    return this.#addrCache.addrs;
  }

  /** The node's current signed record (re-signed when addresses change). */
  record(): NodeRecord {
    const addrs = this.#announced().map((a) => formatAddress(a));
    const key = addrs.join(" ");
    if (!this.#record || key !== this.#recordAddrs || this.#record.expires - Date.now() < 600_000) {
      this.#record = createNodeRecord(this.#keyPair, { addrs, realms: this.#realms, roles: this.#roles });
      this.#recordAddrs = key;
    }
    return this.#record;
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
    const addrs = [addr];
    if (addr.kind === "quic" && !this.#transports.has("quic") && this.#transports.has("tcp")) {
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
    return this.#manager.connections().map((c) => {
      const entry = this.peerStore.get(c.remoteId);
      return {
        id: c.remoteId.did,
        transport: c.transport,
        direction: c.direction,
        address: c.remoteAddress,
        rtt: entry?.rtt === undefined ? undefined : Math.round(entry.rtt * 1000) / 1000,
        since: new Date(c.openedAt).toISOString(),
        streams: c.activeStreams,
        addrs: entry?.record?.addrs.map((a) => `${a}/${c.remoteId.did}`) ?? [],
        realms: entry?.record?.realms ?? [],
        ...Object.assign({}, ...this.#services.map((s) => s.peerInfo?.(c.remoteId) ?? {})),
      };
    });
  }

  /** The node's status. */
  status(): NodeStatus {
    return {
      id: this.id.did,
      addrs: this.addrs,
      realm: this.#realms[0],
      realms: this.realms,
      version: VERSION,
      runtime: `${this.#platform.runtimeVersion} ${this.#platform.target}`,
      uptime: Math.round((Date.now() - this.#startedAt) / 1000),
      peers: this.#manager.connections().length,
      ...Object.fromEntries(this.#services.filter((s) => s.status).map((s) => [s.name, s.status!()])),
    };
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
    for (const t of this.#transports.values()) await t.close().catch(() => {});
    this.log.info("node stopped", { id: this.id.short });
  }

  /** `await using node = await Node.start()` stops it at scope exit. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

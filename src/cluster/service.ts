/**
 * `ClusterService`: LAN clustering as a node service. Discovers nodes
 * (multicast announcements, mDNS/DNS-SD, or seeds only), runs SWIM
 * membership over UDP, dials members so they join the node's mesh, and
 * reports membership as `peer:up` / `peer:down` node events, in `/status`,
 * `/peers` and `/metrics`.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import { parseAddress } from "../transport/address.ts";
import type { Logger } from "../log/logger.ts";
import type { NodeService, ServiceHost } from "../node/service.ts";
import { currentPlatform } from "../platform/current.ts";
import type { Platform, SocketAddress } from "../platform/types.ts";
import type { Clock } from "./clock.ts";
import { ClusterError, DROP_REASONS } from "./errors.ts";
import { EventQueue } from "./events.ts";
import { Timers } from "./timers.ts";
import { ClusterKey } from "./hmac.ts";
import { type ClusterInterface, sameInterfaces, selectInterfaces } from "./interfaces.ts";
import { handleJoin, JOIN_PROTOCOL, joinOver } from "./join.ts";
import { MdnsDiscovery } from "./mdns/mdns.ts";
import { ClusterMetrics } from "./metrics.ts";
import { suspicionFloor, type SwimTimings } from "./options.ts";
import { GroupReceiver, InterfaceSockets } from "./sockets.ts";
import type { Member, MemberState } from "./swim/membership.ts";
import { type MembershipEvent, Swim } from "./swim/swim.ts";

/** How nodes find each other. */
export type ClusterStrategy = "gossip" | "static" | "mdns";
/** Every strategy. */
export const CLUSTER_STRATEGIES: readonly ClusterStrategy[] = ["gossip", "static", "mdns"];
/** Default multicast group of announcements. */
export const DEFAULT_CLUSTER_GROUP = "230.1.1.251";
/** Default UDP port of announcements. */
export const DEFAULT_CLUSTER_PORT = 45892;

/** Options of `ClusterService`. */
export interface ClusterOptions {
  /** `gossip` (default): multicast announcements; `mdns`: DNS-SD `_macula._udp.local`; `static`: seeds only. */
  strategy?: ClusterStrategy;
  /** Shared secret; when set every datagram carries an HMAC-SHA256 and unauthenticated ones are dropped. */
  secret?: string;
  /** Multicast group of announcements. Default 230.1.1.251. */
  group?: string;
  /** UDP port of announcements. Default 45892. */
  port?: number;
  /** Interface names or addresses to use (default: every non-loopback IPv4 interface). */
  interfaces?: string[];
  /** UDP port for SWIM traffic on each interface. Default 0 (any free port; it is announced). */
  swimPort?: number;
  /** The node's listen host; a specific address limits clustering to its interface. */
  host?: string;
  /** Nodes (`quic://host:port/did:key:…`) to join through a connection; the only source with `static`. */
  seeds?: string[];
  /** SWIM timings. */
  timings?: Partial<SwimTimings>;
  /** mDNS group and port (default 224.0.0.251:5353; tests use others). */
  mdns?: { group?: string; port?: number };
  /** How often interfaces are re-read (ms). Default 5 000. */
  rescanInterval?: number;
  /**
   * The wall clock clustering shows times with (member `since`, event
   * times); default `Date.now`. Clustering never compares clocks between
   * nodes (replay protection uses per-sender counters), so this only
   * matters for display, and for tests that give nodes different clocks.
   */
  clock?: Clock;
  /**
   * Runtime services (UDP sockets, interfaces). Default: the running
   * runtime's.
   *
   * @internal The `Platform` interface is the runtime boundary of this
   * library, not part of its stable API; tests pass their own to inject
   * faults.
   */
  platform?: Platform;
}

/** A member as `/status` shows it. */
export interface MemberSummary {
  /** The member's `did:key`. */
  id: string;
  /** Its membership state. */
  state: MemberState;
  /** Its incarnation: a counter it raises to refute suspicion or announce new endpoints. */
  incarnation: number;
  /** SWIM endpoint. */
  addr: string;
  /** Since when it is in this state (ISO 8601). */
  since: string;
}

/**
 * Clustering of one node.
 *
 * @example
 * ```ts
 * import { Node } from "../../mod.ts";
 * import { ClusterService } from "./service.ts";
 * const cluster = new ClusterService({ secret: "a long shared secret", interfaces: ["127.0.0.1"] });
 * await using node = await Node.start({ port: 0, host: "127.0.0.1", services: [cluster] });
 * node.on("peer:up", (id) => console.log("up", id.did));
 * node.on("peer:down", (id) => console.log("down", id.did));
 * for await (const e of cluster.events()) console.log(e.type, e.id.short);
 * ```
 */
export class ClusterService implements NodeService {
  readonly name = "cluster";
  /** How nodes are discovered (`options.strategy`, default `gossip`). */
  readonly strategy: ClusterStrategy;
  /** The multicast group of announcements (`options.group`, default `230.1.1.251`). */
  readonly group: string;
  /** The UDP port of announcements (`options.port`, default 45892). */
  readonly port: number;
  readonly #options: ClusterOptions;
  readonly #key?: ClusterKey;
  #node?: ServiceHost;
  #log?: Logger;
  #swim?: Swim;
  #sockets?: InterfaceSockets;
  #receiver?: GroupReceiver;
  #mdns?: MdnsDiscovery;
  #interfaces: ClusterInterface[] = [];
  #queues = new Set<EventQueue<MembershipEvent>>();
  #timers = new Timers();
  #intervals: ReturnType<typeof setInterval>[] = [];
  #unsubscribe: Array<() => void> = [];
  #seeds: NodeId[] = [];
  #disabled?: string;
  #stopped = false;

  /**
   * Build the clustering service; it starts with the node it is given to
   * (`NodeOptions.services`). Throws `ClusterError` for an unknown strategy.
   */
  constructor(options: ClusterOptions = {}) {
    this.#options = options;
    this.strategy = options.strategy ?? "gossip";
    if (!CLUSTER_STRATEGIES.includes(this.strategy)) {
      throw new ClusterError(`unknown cluster strategy ${JSON.stringify(this.strategy)}`);
    }
    this.group = options.group ?? DEFAULT_CLUSTER_GROUP;
    this.port = options.port ?? DEFAULT_CLUSTER_PORT;
    if (options.secret !== undefined) this.#key = ClusterKey.fromSecret(options.secret);
  }

  /**
   * The SWIM membership engine, once started.
   *
   * @internal The engine is an implementation detail, for tests and
   * diagnostics; applications use `members()`, `events()` and `status()`.
   */
  get swim(): Swim | undefined {
    return this.#swim;
  }

  async start(host: ServiceHost): Promise<void> {
    try {
      await this.#start(host);
    } catch (error) {
      await this.stop(); // the node only stops services that started
      throw error;
    }
  }

  async #start(node: ServiceHost): Promise<void> {
    this.#node = node;
    const log = this.#log = node.log;
    const platform = this.#options.platform ?? currentPlatform();
    if (!platform.udp) {
      this.#disabled = "UDP is unavailable on this runtime (Deno needs --unstable-net)";
      log.warn(`clustering disabled: ${this.#disabled}`);
      return;
    }
    if (!this.#key) {
      log.warn("the cluster is open: any node on the LAN can join (set CLUSTER_SECRET to require a secret)");
    }
    const metrics = new ClusterMetrics(node.metrics);
    const sockets = this.#sockets = new InterfaceSockets(platform.udp, {
      port: this.#options.swimPort ?? 0,
      onDatagram: (d) => swim.receive(d.data, d.from),
    });
    const swim: Swim = this.#swim = new Swim({
      signer: node,
      key: this.#key,
      timings: this.#options.timings,
      send: (to, bytes) => sockets.send(to, bytes),
      endpoints: () => sockets.endpoints(),
      record: () => node.record(),
      pickEndpoint: (addrs) => sockets.pickEndpoint(addrs),
      log,
      metrics,
      clock: this.#options.clock,
    });
    this.#registerGauges(node, swim);
    await this.#selectInterfaces(platform, true);
    swim.refreshEndpoints(); // the token must list the sockets just opened
    swim.events.on("change", (e) => {
      if (e.type === "up") node.emit("peer:up", e.id);
      if (e.type === "down") node.emit("peer:down", e.id);
      for (const q of this.#queues) q.push(e);
    });
    swim.events.on("record", (record) => {
      node.learn(record);
      this.#dial(record.id);
    });
    swim.start();
    this.#startJoin(node, swim);
    if (this.strategy === "gossip") {
      this.#receiver = await GroupReceiver.open(
        platform.udp,
        this.group,
        this.port,
        (d) => swim.receive(d.data, d.from, { multicast: true }),
      );
      await this.#joinGroup();
      this.#announceLoop();
    } else if (this.strategy === "mdns") {
      this.#mdns = await MdnsDiscovery.start({
        udp: platform.udp,
        id: swim.id,
        interfaces: () => this.#interfaces,
        endpoints: () => sockets.endpoints(),
        onCandidate: (addr) => swim.contact(addr),
        log,
        metrics,
        ...this.#options.mdns,
      });
    }
    const rescan = this.#options.rescanInterval ?? 5_000;
    this.#intervals.push(setInterval(() => this.#selectInterfaces(platform, false).catch(() => {}), rescan));
    log.info("clustering started", {
      strategy: this.strategy,
      group: this.strategy === "gossip" ? `${this.group}:${this.port}` : undefined,
      swim: sockets.endpoints().join(" "),
      secret: !!this.#key,
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timers.clear();
    for (const t of this.#intervals) clearInterval(t);
    for (const off of this.#unsubscribe) off();
    await this.#swim?.stop();
    this.#receiver?.close();
    this.#mdns?.stop();
    this.#sockets?.close();
    for (const q of this.#queues) q.close();
  }

  async #selectInterfaces(platform: Platform, first: boolean): Promise<void> {
    const { selected, unmatched, loopbackFallback } = selectInterfaces(platform.process.interfaces(), {
      wanted: this.#options.interfaces,
      host: this.#options.host,
    });
    if (first) {
      if (selected.length === 0) {
        throw new ClusterError(`no network interface matches ${unmatched.join(", ")} (see --cluster-interface)`);
      }
      if (unmatched.length) this.#log!.warn("cluster interfaces not found (yet)", { missing: unmatched.join(" ") });
      if (loopbackFallback) this.#log!.warn("no LAN interface with IPv4; clustering on loopback only");
    }
    if (selected.length === 0 || sameInterfaces(selected, this.#interfaces) || this.#stopped) return;
    await this.#sockets!.update(selected);
    this.#interfaces = this.#sockets!.interfaces;
    if (!first) {
      this.#log!.info("cluster interfaces changed", { interfaces: this.#interfaces.map((i) => i.name).join(" ") });
      await this.#joinGroup();
      await this.#mdns?.refresh();
      this.#swim!.refreshEndpoints();
    }
  }

  async #joinGroup(): Promise<void> {
    if (!this.#receiver) return;
    const failed = await this.#receiver.join(this.#interfaces);
    if (failed.length) this.#log!.warn("cannot join the multicast group", { group: this.group, on: failed.join(" ") });
  }

  #announceLoop(): void {
    const swim = this.#swim!;
    const target: SocketAddress = { hostname: this.group, port: this.port };
    const announce = (reply: boolean) => {
      const bytes = swim.announcement(reply);
      if (!bytes || this.#stopped) return;
      const sent = this.#sockets!.sendEverywhere(target, bytes);
      swim.metrics.datagramsSent.inc({ type: "announce" }, sent);
      swim.metrics.bytesSent.inc({ type: "announce" }, sent * bytes.length);
    };
    // A burst at start (asking for replies, so a newcomer learns everyone at once), then periodic.
    for (const at of [0, 250, 750]) this.#timers.after(at, () => announce(true));
    const interval = swim.timings.announceInterval;
    const next = () => {
      announce(swim.members.live().length === 0);
      this.#timers.after(interval * (0.75 + Math.random() * 0.5), next);
    };
    this.#timers.after(750 + interval * Math.random(), next);
  }

  /** Seeds join through a connection (all strategies; the only way with `static`). */
  #startJoin(node: ServiceHost, swim: Swim): void {
    this.#unsubscribe.push(node.handle(JOIN_PROTOCOL, handleJoin(swim)));
    for (const seed of this.#options.seeds ?? []) {
      try {
        this.#seeds.push(parseAddress(seed, { requireId: true }).id!);
      } catch {
        // the CLI validated seeds; a bad one is skipped here
      }
    }
    if (this.#seeds.length === 0) return;
    const tryJoin = (id: NodeId) => {
      const conn = node.connection(id);
      if (!conn || swim.members.get(id)?.state === "alive") return;
      joinOver(conn, swim).catch((error) =>
        this.#log!.debug("cluster join through seed failed", { peer: id.short, error: (error as Error).message })
      );
    };
    this.#unsubscribe.push(node.on("peer:connect", (conn) => {
      if (this.#seeds.some((id) => id.equals(conn.remoteId))) tryJoin(conn.remoteId);
    }));
    // Re-join seeds that are connected but not (or no longer) members, e.g. after a partition.
    this.#intervals.push(setInterval(() => this.#seeds.forEach(tryJoin), swim.timings.announceInterval));
  }

  /**
   * Dial a member so it joins our mesh. The smaller id dials, the other one
   * only if that did not happen; dials are spread over a window that grows
   * with the cluster (150 ms per member, at most 5 s) so that a cluster
   * forming at once does not do every handshake in the same second.
   */
  #dial(id: NodeId): void {
    const node = this.#node!;
    if (node.connection(id)) return;
    const spread = Math.min(5_000, 150 * (this.#swim?.members.live().length ?? 1));
    const delay = Math.random() * spread + (node.id.compare(id) < 0 ? 0 : spread + 2_000);
    this.#timers.after(delay, () => {
      const m = this.#swim?.members.get(id);
      if (node.connection(id) || !m || m.state !== "alive") return;
      node.connect(id).then(
        () => this.#swim?.metrics.dials.inc({ result: "ok" }),
        (error) => {
          this.#swim?.metrics.dials.inc({ result: "failed" });
          this.#log!.debug("dialing a cluster member failed", { peer: id.short, error: (error as Error).message });
        },
      );
    });
  }

  #registerGauges(node: ServiceHost, swim: Swim): void {
    node.metrics.gauge("macula_cluster_members", "Cluster members by state (this node excluded).", () => {
      const counts: Record<MemberState, number> = { alive: 0, suspect: 0, dead: 0, left: 0 };
      for (const m of swim.members.all()) counts[m.state]++;
      return Object.entries(counts).map(([state, n]) => [{ state }, n]);
    });
    node.metrics.gauge(
      "macula_cluster_local_health",
      "Lifeguard local health multiplier score (0 = healthy).",
      () => swim.health.score,
    );
  }

  /** Members (this node excluded), any state. */
  members(): MemberSummary[] {
    return (this.#swim?.members.all() ?? []).map((m: Member) => ({
      id: m.id.did,
      state: m.state,
      incarnation: m.incarnation,
      addr: m.addr,
      since: new Date(m.since).toISOString(),
    }));
  }

  /**
   * Membership changes as an async iterator (`up`, `down`, `suspect`,
   * `alive`). Stop with `break` or `return()`.
   */
  events(): AsyncIterableIterator<MembershipEvent> {
    const q: EventQueue<MembershipEvent> = new EventQueue(() => this.#queues.delete(q));
    if (this.#stopped) q.close();
    else this.#queues.add(q);
    return q;
  }

  status(): Record<string, unknown> {
    const swim = this.#swim;
    if (!swim) return { strategy: this.strategy, open: !this.#key, disabled: this.#disabled ?? "not started" };
    const members = this.members();
    const count = (s: MemberState) => members.filter((m) => m.state === s).length;
    const n = swim.members.live().length + 1;
    const floor = suspicionFloor(n, swim.timings);
    return {
      strategy: this.strategy,
      group: this.strategy === "gossip" ? `${this.group}:${this.port}` : undefined,
      secret: !!this.#key,
      // Open: no secret, so any device on the LAN may join.
      open: !this.#key,
      interfaces: this.#interfaces.map((i) => ({ name: i.name, address: i.address })),
      endpoints: this.#sockets?.endpoints() ?? [],
      incarnation: swim.incarnation,
      localHealth: swim.health.score,
      counts: { alive: count("alive"), suspect: count("suspect"), dead: count("dead"), left: count("left") },
      members,
      dropped: Object.fromEntries(DROP_REASONS.map((r) => [r, swim.metrics.dropped.get({ reason: r })])),
      timings: {
        probeInterval: swim.timings.probeInterval,
        probeTimeout: swim.timings.probeTimeout,
        suspicionTimeout: { min: floor, max: floor * swim.timings.suspicionMaxMult },
      },
    };
  }

  peerInfo(id: NodeId): Record<string, unknown> | undefined {
    const m = this.#swim?.members.get(id);
    return m ? { membership: m.state } : undefined;
  }
}

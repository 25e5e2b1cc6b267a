/**
 * Builds the console's `ConsoleSnapshot` from a running node: its status,
 * its connections, the cluster membership, pub/sub topics and RPC
 * procedures with their rates over the last 10 s, content, apps and the
 * 1 s series. Peers that disconnected stay 60 s with `connected: false`.
 *
 * @module
 */
import type { Node } from "../api/node.ts";
import type { ClusterService } from "../cluster/service.ts";
import { APPS } from "../apps/apps-service.ts";
import { CONTENT, type ContentService } from "../content/content-service.ts";
import { REACHABILITY } from "../nat/reachability.ts";
import { RINGS } from "../rings/rings-service.ts";
import { RING_TOPIC_PREFIX } from "../rings/messages.ts";
import type { RelayClient } from "../relay/relay-client.ts";
import { CONSOLE_PROTOCOL_VERSION } from "./protocol.ts";
import type {
  ConsoleApp,
  ConsoleContent,
  ConsoleMember,
  ConsoleNode,
  ConsolePeer,
  ConsoleRealm,
  ConsoleRing,
  ConsoleSeries,
  ConsoleSnapshot,
} from "./protocol.ts";
import { RateWindow } from "./rates.ts";

/** At most this many content entries in a snapshot (the most recently used). */
const MAX_ENTRIES = 100;

/** Options of `SnapshotBuilder`. */
export interface SnapshotOptions {
  /** Whether actions are off (`--console-readonly`). */
  readonly?: boolean;
  /** The series to include (empty without). */
  series?: () => ConsoleSeries;
  /** How long a disconnected peer stays in the snapshot, ms (default 60 000). */
  keepDisconnected?: number;
  /** The window of the topic and procedure rates, ms (default 10 000). */
  rateWindow?: number;
}

const EMPTY_SERIES: ConsoleSeries = { t: [], msgs: [], bytes: [], connections: [], rss: [] };

/**
 * Takes snapshots of one node; keeps what rates and departed peers need
 * between them.
 *
 * @example
 * ```ts
 * import { SnapshotBuilder } from "./snapshot.ts";
 * declare const node: import("../api/node.ts").Node;
 * const snapshot = new SnapshotBuilder(node).take();
 * console.log(snapshot.node.id, snapshot.peers.length);
 * ```
 */
export class SnapshotBuilder {
  #node: Node;
  #o: SnapshotOptions & { keepDisconnected: number };
  #rates: RateWindow;
  #current = new Map<string, ConsolePeer>();
  #departed = new Map<string, ConsolePeer>();

  /** A builder for `node`. */
  constructor(node: Node, options: SnapshotOptions = {}) {
    this.#node = node;
    this.#o = { ...options, keepDisconnected: options.keepDisconnected ?? 60_000 };
    this.#rates = new RateWindow(options.rateWindow ?? 10_000);
  }

  /** Take a snapshot now. */
  take(now: number = Date.now()): ConsoleSnapshot {
    const node = this.#node;
    const counts = new Map<string, number>();
    const topics = node.pubsub.topics();
    for (const t of topics) counts.set(`t|${t.realm}|${t.topic}`, t.messages);
    const procedures = node.rpc.procedures();
    for (const p of procedures) counts.set(`p|${p.realm}|${p.procedure}`, p.calls);
    const rates = this.#rates.record(now, counts);
    const realms: ConsoleRealm[] = node.realms.map((name) => ({
      name,
      topics: topics.filter((t) => t.realm === name).map((t) => ({
        topic: t.topic,
        subscribers: t.subscribers,
        rate: rates.get(`t|${name}|${t.topic}`) ?? 0,
      })),
      procedures: procedures.filter((p) => p.realm === name).map((p) => ({
        procedure: p.procedure,
        providers: p.providers,
        rate: rates.get(`p|${name}|${p.procedure}`) ?? 0,
      })),
    }));
    const snapshot: ConsoleSnapshot = {
      v: CONSOLE_PROTOCOL_VERSION,
      at: now,
      readonly: this.#o.readonly ?? false,
      node: this.#self(),
      peers: this.#peers(now),
      members: this.#members(),
      realms,
      series: this.#o.series?.() ?? EMPTY_SERIES,
    };
    const content = this.#content();
    if (content) snapshot.content = content;
    const apps = this.#apps();
    if (apps) snapshot.apps = apps;
    const rings = this.#node.service(RINGS)?.list() ?? [];
    const served = gatewayRings(this.#node, rings);
    if (rings.length || served.length || this.#node.service(RINGS)) snapshot.rings = [...rings, ...served];
    return snapshot;
  }

  #self(): ConsoleNode {
    const node = this.#node;
    const status = node.status();
    const nat = node.service(REACHABILITY);
    const relayClient = node.service<RelayClient>("relay-client");
    return {
      id: status.id,
      addrs: status.addrs,
      observedAddrs: status.observedAddrs,
      realms: status.realms,
      version: status.version,
      runtime: status.runtime,
      uptime: status.uptime,
      reachability: nat?.reachability() ?? "unknown",
      natType: nat?.mapping().type ?? "unknown",
      relays: relayClient?.relays().filter((r) => r.state === "reserved").map((r) => r.relay) ?? [],
    };
  }

  #peers(now: number): ConsolePeer[] {
    const current = new Map<string, ConsolePeer>();
    for (const p of this.#node.peers()) {
      if (current.has(p.id)) continue; // one edge per peer (the first connection)
      const via = typeof p.relay === "string" ? p.relay : undefined;
      const peer: ConsolePeer = {
        id: p.id,
        connected: true,
        path: p.route === "relayed" ? "relayed" : "direct",
        transport: p.transport,
        since: Date.parse(p.since) || now,
      };
      if (via) peer.via = via;
      if (p.rtt !== undefined) peer.rtt = p.rtt;
      if (p.address) peer.addr = p.address;
      current.set(p.id, peer);
      this.#departed.delete(p.id);
    }
    for (const [id, peer] of this.#current) {
      if (!current.has(id)) this.#departed.set(id, { ...peer, connected: false, since: now });
    }
    this.#current = current;
    for (const [id, peer] of this.#departed) {
      if (now - peer.since > this.#o.keepDisconnected) this.#departed.delete(id);
    }
    return [...current.values(), ...this.#departed.values()];
  }

  #members(): ConsoleMember[] {
    const cluster = this.#node.service<ClusterService>("cluster");
    if (!cluster) return [];
    return cluster.members().map((m) => ({
      id: m.id,
      state: m.state === "alive" || m.state === "suspect" ? m.state : "dead",
      changed: Date.parse(m.since) || 0,
    }));
  }

  #content(): ConsoleContent | undefined {
    const content: ContentService | undefined = this.#node.service(CONTENT);
    if (!content) return undefined;
    const entries = content.list().sort((a, b) => b.lastUsed - a.lastUsed).slice(0, MAX_ENTRIES).map((e) => ({
      mcid: e.mcid.toString(),
      size: e.mcid.size,
      bytes: e.bytes,
      complete: e.complete,
      pinned: e.pinned,
    }));
    const transfers = content.transfers().map((t) => ({
      mcid: t.mcid,
      size: t.size,
      received: t.bytes,
      providers: t.providers.length,
      rate: Math.round(t.rate),
    }));
    return { entries, used: content.store.used(), quota: content.store.quota, transfers };
  }

  #apps(): ConsoleApp[] | undefined {
    const apps = this.#node.service(APPS);
    if (!apps) return undefined;
    return apps.list().map((a) => {
      const app: ConsoleApp = { identity: a.identity, capabilities: [...a.capabilities], health: a.health.state };
      const checked = Date.parse(a.health.lastCheck);
      if (!Number.isNaN(checked)) app.checked = checked;
      return app;
    });
  }
}

/**
 * The rings a gateway's clients are in while the gateway itself is not: its
 * directly connected peers subscribed to a ring's presence topic.
 */
function gatewayRings(node: Node, own: ConsoleRing[]): ConsoleRing[] {
  const joined = new Set(own.map((r) => `${r.realm}|${r.name}`));
  return node.pubsub.neighbourSubscriptions()
    .filter((s) => s.pattern.startsWith(RING_TOPIC_PREFIX) && !joined.has(`${s.realm}|${ringName(s.pattern)}`))
    .map((s) => ({
      name: ringName(s.pattern),
      realm: s.realm,
      joinedAt: 0,
      role: "gateway" as const,
      members: s.ids.map((id) => ({ id: id.did, path: "client" as const, since: 0 })),
    }));
}

function ringName(topic: string): string {
  return topic.slice(RING_TOPIC_PREFIX.length);
}

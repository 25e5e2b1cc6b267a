/**
 * Masterless replicated state (`node.state`): named maps per realm, every
 * replica writable at any time, no leader, no quorum. Writes spread by
 * gossip over `/macula/state/1`: each node pushes the writes that changed
 * its replica (its own and merged ones) to the connected peers holding the
 * same map, except the one they came from, in small batches. On every
 * (re)connect, when membership sees a peer come back (`peer:up`), on
 * `open` and every `syncInterval`, replicas exchange
 * version vectors and send each other what the other lacks (anti-entropy).
 * Maps are kept under `<dataDir>/state/`.
 *
 * In a closed realm a node writes only with a `/macula/state/write`
 * capability for `{ realm, name }`; a delta from a peer without one is
 * dropped and counted (`macula_state_refused_total{op="write"}`). The check
 * is on the peer that hands the writes over (writes are not signed by their
 * writer). Reading — a sync, and receiving gossip — needs
 * `/macula/state/read` (`{op="read"}` when refused).
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { Operation } from "../node/authorize.ts";
import { type NodeService, type ServiceHost, type ServiceKey, serviceKey } from "../node/service.ts";
import type { Stream } from "../transport/connection.ts";
import { StateError } from "./errors.ts";
import { runExchange } from "./exchange.ts";
import { checkName, type DeltaMessage, STATE_PROTOCOL } from "./messages.ts";
import { type Entry, Replica } from "./replica.ts";
import { type MapSink, StateMap } from "./state-map.ts";
import type { StateStore } from "./store.ts";
import { push, serve, syncAsOpener } from "./sync.ts";
import { StateCounter, StateSet } from "./views.ts";

/** Tunables of replicated state. */
export interface StateOptions {
  /** Where maps are kept (`Node.start` puts it under `<dataDir>/state/`); in memory without one. */
  store?: StateStore;
  /** Delay before a batch of writes is gossiped, ms. Default 5. */
  gossipDelay?: number;
  /** Delay before changes are written to disk, ms. Default 50. */
  saveDelay?: number;
  /** Deadline of one exchange with a peer, ms. Default 5 000. */
  exchangeTimeout?: number;
  /** Anti-entropy with every holder peer every this many ms; 0 turns it off. Default 15 000. */
  syncInterval?: number;
}

/** Options of `open`. */
export interface OpenStateOptions {
  /** The realm; default the node's primary realm. */
  realm?: string;
}

/** The service's key. */
export const STATE: ServiceKey<StateService> = serviceKey("state");

interface Held {
  map: StateMap;
  peers: Set<string>;
  outbox: Map<string, Map<string, Entry>>;
  gossip?: ReturnType<typeof setTimeout>;
  save?: ReturnType<typeof setTimeout>;
  saving: Promise<void>;
}

/**
 * The state service.
 *
 * @example
 * ```ts
 * import { StateService } from "./state-service.ts";
 * const state = new StateService({ gossipDelay: 5 });
 * state.name; // "state"
 * ```
 */
export class StateService implements NodeService {
  readonly name = "state";
  readonly #opts: Required<Omit<StateOptions, "store">> & { store?: StateStore };
  readonly #held = new Map<string, Held>();
  readonly #opening = new Map<string, Promise<StateMap>>();
  #host?: ServiceHost;
  #off: Array<() => void> = [];
  #timer?: ReturnType<typeof setInterval>;
  #refused?: { inc(labels?: Record<string, string>): void };
  #counts = { pushed: 0, merged: 0, refused: 0, refusedReads: 0, syncs: 0, errors: 0 };
  #sink: MapSink = { changed: (map, entries, from) => this.#changed(map, entries, from) };

  /** A service with `options`. */
  constructor(options: StateOptions = {}) {
    this.#opts = { gossipDelay: 5, saveDelay: 50, syncInterval: 15_000, exchangeTimeout: 5_000, ...options };
  }

  start(host: ServiceHost): void {
    this.#host = host;
    this.#refused = host.metrics.counter(
      "macula_state_refused_total",
      "State exchanges refused: deltas from peers without /macula/state/write, syncs from peers without /macula/state/read.",
    );
    this.#off.push(host.handle(STATE_PROTOCOL, (stream) => this.#serve(stream.remoteId, stream)));
    this.#off.push(host.on("peer:identify", (record) => {
      for (const h of this.#held.values()) {
        if (record.realms.includes(h.map.realm)) this.#sync(record.id, h);
      }
    }));
    // Membership saw the peer come back (e.g. a healed partition over a connection that survived it).
    this.#off.push(host.on("peer:up", (id) => {
      const realms = host.peer(id)?.record?.realms ?? [];
      for (const h of this.#held.values()) if (realms.includes(h.map.realm)) this.#sync(id, h, true);
    }));
    if (this.#opts.syncInterval > 0) {
      this.#timer = setInterval(() => {
        for (const h of this.#held.values()) for (const p of this.#realmPeers(h.map.realm)) this.#sync(p, h);
      }, this.#opts.syncInterval);
    }
  }

  async stop(): Promise<void> {
    for (const off of this.#off.splice(0)) off();
    clearInterval(this.#timer);
    for (const h of this.#held.values()) {
      clearTimeout(h.gossip);
      await this.#flushSave(h);
    }
    this.#held.clear();
  }

  /**
   * Open (or get) the replicated map `name` in `options.realm` (default the
   * primary realm): loaded from disk, then synced with the connected peers
   * holding it. Throws `StateError` for a bad name or a realm this node is
   * not in.
   */
  open(name: string, options: OpenStateOptions = {}): Promise<StateMap> {
    const host = this.#started();
    const realm = options.realm ?? host.realms[0];
    checkName(name);
    checkName(realm, "realm");
    if (!host.realms.includes(realm)) {
      return Promise.reject(new StateError("E_STATE_REALM", `this node is not in realm ${realm}`));
    }
    const key = `${realm}\n${name}`;
    let opening = this.#opening.get(key);
    if (!opening) {
      opening = this.#load(host, realm, name, key);
      this.#opening.set(key, opening);
      opening.catch(() => this.#opening.delete(key));
    }
    return opening;
  }

  /** Open the replicated counter `name` (a map of per-writer totals; see `StateCounter`). */
  async openCounter(name: string, options: OpenStateOptions = {}): Promise<StateCounter> {
    return new StateCounter(await this.open(name, options), this.#started().id.hex);
  }

  /** Open the replicated set of strings `name` (see `StateSet`). */
  async openSet(name: string, options: OpenStateOptions = {}): Promise<StateSet> {
    return new StateSet(await this.open(name, options));
  }

  /** The open maps. */
  maps(): StateMap[] {
    return [...this.#held.values()].map((h) => h.map);
  }

  /** Write pending changes of every map to disk. */
  async flush(): Promise<void> {
    await Promise.all([...this.#held.values()].map((h) => this.#flushSave(h)));
  }

  status(): Record<string, unknown> {
    return {
      maps: [...this.#held.values()].map((h) => ({
        realm: h.map.realm,
        name: h.map.name,
        keys: h.map.size,
        peers: h.peers.size,
      })),
      ...this.#counts,
    };
  }

  async #load(host: ServiceHost, realm: string, name: string, key: string): Promise<StateMap> {
    const replica = new Replica(host.id.hex);
    if (await this.#opts.store?.load(realm, name, replica) === "corrupt") {
      this.#counts.errors++;
      host.log.warn("a state snapshot was corrupt; moved aside, starting empty", { realm, name });
    }
    const writable = await host.authorize(host.id, this.#op(realm, name));
    const map = new StateMap(realm, name, replica, this.#sink, writable);
    const held: Held = { map, peers: new Set(), outbox: new Map(), saving: Promise.resolve() };
    this.#held.set(key, held);
    for (const p of this.#realmPeers(realm)) this.#sync(p, held);
    return map;
  }

  #op(realm: string, name: string): Operation {
    return { kind: "state-write", name, realm };
  }

  #started(): ServiceHost {
    if (!this.#host) throw new Error("the state service has not started");
    return this.#host;
  }

  #realmPeers(realm: string): NodeId[] {
    const host = this.#started();
    return host.peers().filter((p) => host.peer(p)?.record?.realms.includes(realm));
  }

  #lookup(realm: string, name: string): Held | undefined {
    return this.#held.get(`${realm}\n${name}`);
  }

  /** Authorize and merge a delta from `peer`. */
  async #merge(peer: NodeId, delta: DeltaMessage): Promise<boolean> {
    const held = this.#lookup(delta.realm, delta.name);
    if (!held) return false;
    const ok = await this.#started().authorize(peer, this.#op(delta.realm, delta.name));
    if (!ok) {
      this.#counts.refused++;
      this.#refused?.inc({ op: "write" });
      return false;
    }
    this.#counts.merged += held.map.merge(delta.entries, delta.vector, peer.hex).length;
    return true;
  }

  /** Whether `peer` may read `realm`/`name` (`/macula/state/read`); a reader becomes a gossip target. */
  async #mayRead(peer: NodeId, realm: string, name: string): Promise<boolean> {
    const held = this.#lookup(realm, name);
    const ok = held !== undefined && await this.#started().authorize(peer, { kind: "state-read", name, realm });
    if (ok) {
      held.peers.add(peer.hex);
    } else {
      held?.peers.delete(peer.hex);
      this.#counts.refusedReads++;
      this.#refused?.inc({ op: "read" });
    }
    return ok;
  }

  async #serve(peer: NodeId, stream: Parameters<typeof serve>[0]): Promise<void> {
    try {
      await serve(
        stream,
        (realm, name) => this.#lookup(realm, name)?.map,
        (delta) => this.#merge(peer, delta),
        (realm, name) => this.#mayRead(peer, realm, name),
      );
    } catch (error) {
      this.#counts.errors++;
      this.#host?.log.debug("a state stream failed", { peer: peer.short, error: (error as Error).message });
      stream.reset("state stream failed");
    }
  }

  /** Anti-entropy of `held` with `peer`; `dial`: connect first if need be. */
  #sync(peer: NodeId, held: Held, dial = false): void {
    this.#withStream(
      peer,
      async (stream) => {
        this.#counts.syncs++;
        const merge = (delta: DeltaMessage) => this.#merge(peer, delta);
        const mayRead = (realm: string, name: string) => this.#mayRead(peer, realm, name);
        if (await syncAsOpener(stream, held.map, merge, mayRead)) held.peers.add(peer.hex);
        else held.peers.delete(peer.hex);
      },
      true,
      dial,
    );
  }

  #withStream(peer: NodeId, exchange: (stream: Stream) => Promise<void>, redial = false, dial = false): void {
    const host = this.#host;
    if (!host) return;
    runExchange(host, peer, exchange, {
      timeout: this.#opts.exchangeTimeout,
      redial,
      dial,
      alive: () => this.#host === host,
      onError: (error) => {
        this.#counts.errors++;
        host.log.debug("state exchange failed", { peer: peer.short, error: error.message });
      },
    });
  }

  #changed(map: StateMap, entries: Entry[], from: string): void {
    const held = this.#lookup(map.realm, map.name);
    if (!held) return;
    this.#scheduleSave(held);
    if (entries.length === 0) return;
    let batch = held.outbox.get(from);
    if (!batch) held.outbox.set(from, batch = new Map());
    for (const e of entries) batch.set(e.key, e);
    held.gossip ??= setTimeout(() => this.#gossip(held), this.#opts.gossipDelay);
  }

  #gossip(held: Held): void {
    held.gossip = undefined;
    const { realm, name } = held.map;
    const host = this.#host;
    if (!host) return;
    for (const [from, batch] of held.outbox) {
      const delta: DeltaMessage = { t: "delta", realm, name, entries: [...batch.values()] };
      for (const hex of held.peers) {
        if (hex === from) continue;
        const peer = host.peers().find((p) => p.hex === hex);
        if (!peer) continue;
        this.#counts.pushed++;
        this.#withStream(peer, (stream) => push(stream, delta));
      }
    }
    held.outbox.clear();
  }

  #scheduleSave(held: Held): void {
    if (!this.#opts.store || held.save) return;
    held.save = setTimeout(() => {
      held.save = undefined;
      held.saving = held.saving.then(() => this.#save(held));
    }, this.#opts.saveDelay);
  }

  async #save(held: Held): Promise<void> {
    try {
      await this.#opts.store?.save(held.map.realm, held.map.name, held.map.replica);
    } catch (error) {
      this.#counts.errors++;
      this.#host?.log.warn("saving state failed", { name: held.map.name, error: (error as Error).message });
    }
  }

  async #flushSave(held: Held): Promise<void> {
    if (held.save) {
      clearTimeout(held.save);
      held.save = undefined;
      held.saving = held.saving.then(() => this.#save(held));
    }
    await held.saving;
  }
}

/**
 * Pub/sub across the mesh, per realm.
 *
 * Publish: deliver to local subscriptions, then to every remote subscriber
 * node found by the `SubscriberDirectory` (neighbour announcements and DHT
 * records), each through its own bounded queue and stream (`PeerSender`), so
 * a dead subscriber stalls nobody. Fan-out is bounded: beyond `maxFanout`
 * subscriber nodes, the publisher sends to `maxFanout` heads, each of which
 * forwards to its share of the rest (recursively, same bound), and the
 * message is signed so forwarded copies stay authentic. Receivers drop
 * duplicates and out-of-order copies per publisher session (`SequenceGuard`).
 * The sending side lives in `outbound.ts`, the receiving side in `inbound.ts`.
 *
 * @module
 */
import { DHT, type DhtService, RealmError } from "../dht/dht.ts";
import { MAX_PROVIDER_DATA } from "../dht/records.ts";
import type { NodeId } from "../identity/node-id.ts";
import type { Counter } from "../metrics/registry.ts";
import { type Authorize, decide } from "../node/authorize.ts";
import { type NodeService, type ServiceHost, type ServiceKey, serviceKey } from "../node/service.ts";
import { AbortedError, type Deferred, deferred } from "../util/async.ts";
import { MaculaError } from "../util/errors.ts";
import { encodeCbor } from "../wire/cbor.ts";
import { SubscriberDirectory, subscriptionKey } from "./directory.ts";
import { scopedSubscribers, type SubscriberLocator, subscriberLocatorFor } from "./locator.ts";
import { TopicActivity } from "./topic-activity.ts";
import { Inbound } from "./inbound.ts";
import { MESSAGE_DOMAIN, PUBSUB_PROTOCOL } from "./messages.ts";
import { PEER_RESTARTED } from "../node/connection-manager.ts";
import { Outbound } from "./outbound.ts";
import { type MessageHandler, type PubSubMessage, Subscription } from "./subscription.ts";
import { matches, rootOf, validatePattern, validateTopic } from "./topic.ts";

/** A payload larger than the configured limit. */
export class PayloadTooLargeError extends MaculaError {
  /** A payload of `size` bytes over the `limit`. */
  constructor(size: number, limit: number) {
    super("E_PAYLOAD_TOO_LARGE", `payload of ${size} bytes exceeds the ${limit}-byte limit`);
  }
}

/** Tunables of pub/sub. */
export interface PubSubOptions {
  /** Largest encoded payload, bytes. Default 64 KiB. */
  maxPayload?: number;
  /** Subscriber nodes one node sends a message to directly. Default 32. */
  maxFanout?: number;
  /** Messages queued per subscriber node before the oldest are dropped. Default 4096. */
  queueSize?: number;
  /** How long a DHT subscriber answer is reused, ms. Default 5 000. */
  directoryTtl?: number;
  /** On stop, how long to wait for queued messages to be read by their peers, ms. Default 2 000. */
  drainTimeout?: number;
  /** Where subscriptions are also announced, and found for a scoped publish (the hierarchy: set by `Node.start` for a node with a locality). */
  locator?: SubscriberLocator;
}

/** Options of `publish`. */
export interface TopicPublishOptions {
  /** Realm to publish in. Default: the node's primary realm. */
  realm?: string;
  /** Deliver only to subscribers within this level of the node's locality (name or number). */
  scope?: string | number;
}

/** Options of `subscribe`. */
export interface SubscribeOptions {
  /** The realm; default the node's primary realm. */
  realm?: string;
  /**
   * Decides, per message, whether the subscription receives it: the subject
   * is the origin publisher (not a forwarder), the operation a `"publish"`
   * on the topic. Refused messages are counted as dropped (`unauthorized`).
   */
  authorize?: Authorize;
}

/** What `publish` did. */
export interface PublishResult {
  /** Local subscriptions that got the message. */
  local: number;
  /** Remote subscriber nodes it was queued for (directly or through forwarders). */
  remote: number;
}

/** Bytes a message frame adds around its payload, at most (keys, ids, topic). */
const FRAME_OVERHEAD = 512;

/** As many patterns as fit a provider record's data (1 KiB). */
function fitPatterns(patterns: string[]): string[] {
  const out: string[] = [];
  let size = 8;
  for (const p of patterns) {
    size += p.length + 3;
    if (size > MAX_PROVIDER_DATA - 16) break;
    out.push(p);
  }
  return out;
}

/** The key of the pub/sub service, for `node.service(PUBSUB)` and `needs`. */
export const PUBSUB: ServiceKey<PubSubService> = serviceKey("pubsub");

/**
 * The pub/sub service (a default service of `Node`, named `pubsub`; needs
 * the DHT). Authorization: a remote message is delivered only if the node's
 * policy admits its origin for a `"publish"` on the topic, and then to each
 * matching subscription whose own `authorize` admits it; a subscriber node
 * is sent a message only if the policy admits it for a `"subscribe"` on the
 * topic.
 *
 * @example
 * ```ts
 * import type { Node } from "../../mod.ts";
 * declare const node: Node;
 * node.subscribe("sensors.*.temp", (msg) => console.log(msg.topic, msg.payload));
 * await node.publish("sensors.kitchen.temp", { celsius: 21.5 });
 * ```
 */
export class PubSubService implements NodeService {
  readonly name = "pubsub";
  readonly needs: readonly ServiceKey<DhtService>[] = [DHT];
  #opts: Required<Omit<PubSubOptions, "locator">>;
  #locator?: SubscriberLocator;
  #node!: ServiceHost;
  #dht!: DhtService;
  #guards = new WeakMap<Subscription, Authorize>();
  #directory!: SubscriberDirectory;
  #subs = new Map<string, Set<Subscription>>();
  #matchCache = new Map<string, Subscription[]>();
  #activity = new TopicActivity();
  #out!: Outbound;
  #epoch = Math.floor(Math.random() * 2 ** 48);
  #seq = 0;
  #announceTimer: ReturnType<typeof setTimeout> | null = null;
  /** Settles when the scheduled announce (if any) has run. */
  #announceScheduled: Deferred<void> | null = null;
  #announcing: Promise<void> = Promise.resolve();
  #announced = new Map<string, Set<string>>();
  #off: Array<() => void> = [];
  #published!: { inc(n?: number): void };
  #delivered!: { inc(n?: number): void };
  #dropped!: Counter;

  /** A pub/sub service with `options` (defaults: 64 KiB payloads, fan-out 32, 4,096 queued per peer, 5 s cache). */
  constructor(options: PubSubOptions = {}) {
    const { locator, ...rest } = options;
    this.#locator = locator;
    this.#opts = {
      maxPayload: 64 * 1024,
      maxFanout: 32,
      queueSize: 4096,
      directoryTtl: 5_000,
      drainTimeout: 2_000,
      ...rest,
    };
  }

  start(node: ServiceHost): void {
    this.#node = node;
    this.#dht = node.use(DHT);
    this.#directory = new SubscriberDirectory(this.#dht, node.id, { cacheTtl: this.#opts.directoryTtl });
    for (const realm of node.realms) this.#subs.set(realm, new Set());
    const registry = node.metrics;
    this.#published = registry.counter("macula_pubsub_published_total", "Messages published by this node.").with();
    this.#delivered = registry.counter("macula_pubsub_delivered_total", "Messages delivered to local subscriptions.")
      .with();
    const dropped = this.#dropped = registry.counter("macula_pubsub_dropped_total", "Messages dropped, by reason.");
    const sent = registry.counter("macula_pubsub_messages_sent_total", "Message frames sent to peers, by route.");
    const { maxFanout, queueSize, maxPayload } = this.#opts;
    const directory = this.#directory;
    const outbound = this.#out = new Outbound({
      node,
      maxFanout,
      queueSize,
      sent,
      dropped,
      onUnreachable: (peer) => directory.forget(peer),
    });
    const inbound = new Inbound({
      node,
      maxPayload,
      directory,
      outbound,
      dropped,
      inRealm: (realm) => this.#subs.has(realm),
      deliver: (message, via) => this.#deliverRemote(message, via),
    });
    this.#off.push(
      node.handle(PUBSUB_PROTOCOL, (stream) => inbound.serve(stream)),
      node.on("peer:identify", (record) => {
        // Tell a new neighbour what we subscribe to in the realms we share.
        for (const realm of record.realms) this.#announceTo(record.id, realm);
      }),
      node.on("peer:connect", (conn) => outbound.connected(conn.remoteId)),
      node.on("peer:disconnect", (id, info) => {
        // A restarted peer is connected again at once and re-announces: until then its
        // last announcement stands, so nothing published meanwhile misses it.
        if (info.reason !== PEER_RESTARTED) this.#directory.dropNeighbour(id);
        outbound.disconnected(id);
      }),
    );
  }

  /**
   * Stop: no more announcements or handlers; queued messages are delivered
   * first (each peer has read them all), for at most `drainTimeout` ms.
   */
  async stop(): Promise<void> {
    if (this.#announceTimer) clearTimeout(this.#announceTimer);
    this.#announceTimer = null;
    this.#announceScheduled?.resolve(); // nothing more will be announced
    this.#announceScheduled = null;
    for (const off of this.#off) off();
    await this.#out?.drainAll(this.#opts.drainTimeout); // undefined if never started
  }

  status(): Record<string, unknown> {
    return {
      subscriptions: Object.fromEntries(
        [...this.#subs].map(([realm, subs]) => [realm, [...subs].map((s) => s.pattern)]),
      ),
    };
  }

  #realm(realm: string | undefined): string {
    const r = realm ?? this.#node.realms[0];
    if (!this.#subs.has(r)) throw new RealmError(r);
    return r;
  }

  /**
   * The patterns directly connected peers announced they subscribe to, with
   * those peers (read-only, for the console: e.g. the rings of a gateway's
   * browser clients).
   */
  neighbourSubscriptions(): { realm: string; pattern: string; ids: NodeId[] }[] {
    return this.#directory?.neighbourPatterns() ?? [];
  }

  /**
   * What this node sees of its topics, read-only (for the console): the
   * topics published or received here, with their message counts, and the
   * local subscription patterns; each with the subscribers known now (local
   * subscriptions plus remote nodes known without a lookup).
   */
  topics(): { realm: string; topic: string; messages: number; subscribers: number }[] {
    const out = new Map<string, { realm: string; topic: string; messages: number; subscribers: number }>();
    const known = (realm: string, topic: string) =>
      this.#directory.known(realm, topic) +
      [...(this.#subs.get(realm) ?? [])].filter((s) => s.pattern === topic || matches(s.pattern, topic)).length;
    for (const [realm, subs] of this.#subs) {
      for (const s of subs) {
        const key = `${realm}|${s.pattern}`;
        if (!out.has(key)) out.set(key, { realm, topic: s.pattern, messages: 0, subscribers: 0 });
      }
    }
    for (const c of this.#activity.list()) out.set(`${c.realm}|${c.topic}`, { ...c, subscribers: 0 });
    for (const t of out.values()) t.subscribers = known(t.realm, t.topic);
    return [...out.values()];
  }

  /** Subscribe to `pattern`; with no handler, iterate the subscription. */
  subscribe(pattern: string, handler?: MessageHandler, options: SubscribeOptions = {}): Subscription {
    validatePattern(pattern);
    const realm = this.#realm(options.realm);
    const sub = new Subscription(pattern, realm, handler, {
      onClose: (s) => {
        this.#subs.get(realm)?.delete(s);
        this.#matchCache.clear();
        this.#scheduleAnnounce();
      },
      onHandlerError: (error) => {
        this.#dropped.inc({ reason: "handler-error" });
        this.#node.log.warn("subscription handler failed", {
          pattern,
          error: (error as Error)?.message ?? String(error),
        });
      },
    });
    if (options.authorize) this.#guards.set(sub, options.authorize);
    this.#subs.get(realm)!.add(sub);
    this.#matchCache.clear();
    this.#scheduleAnnounce();
    return sub;
  }

  /**
   * Publish `payload` (any CBOR value) on `topic`. With a `scope` (a level
   * of the node's locality, by name or number), only subscribers found
   * through the hierarchy within that scope receive it (ignored on a node
   * without a locality).
   */
  async publish(topic: string, payload: unknown, options: TopicPublishOptions = {}): Promise<PublishResult> {
    validateTopic(topic);
    const realm = this.#realm(options.realm);
    const seq = ++this.#seq;
    const message = this.#out.encodeMessage({
      r: realm,
      o: this.#node.id.bytes,
      e: this.#epoch,
      s: seq,
      tp: topic,
      d: payload,
    });
    if (message.size > this.#opts.maxPayload + FRAME_OVERHEAD) {
      throw new PayloadTooLargeError(message.size - FRAME_OVERHEAD, this.#opts.maxPayload);
    }
    this.#published.inc();
    this.#activity.note(realm, topic);
    const local = this.#deliverLocal({ realm, topic, payload, publisher: this.#node.id, seq });
    const near = options.scope === undefined ? undefined : subscriberLocatorFor(this.#locator, realm);
    const found = near
      ? await scopedSubscribers(near, this.#node.id, topic, options.scope!)
      : this.#directory.cachedSubscribers(realm, topic) ?? await this.#directory.subscribers(realm, topic);
    const targets = await this.#admitted(found, realm, topic);
    if (targets.length === 0) return { local, remote: 0 };
    if (targets.length <= this.#opts.maxFanout) {
      // The common case: the same bytes go to every subscriber node.
      this.#out.sendDirect(targets, message.frame());
    } else {
      this.#out.fanOut(message.withSignature(this.#node.sign(MESSAGE_DOMAIN, message.signedBytes())), targets);
    }
    // Backpressure: a publisher faster than a live subscriber waits for it (up to
    // a second per message); only then are the oldest queued messages dropped.
    for (const t of targets) {
      const sender = this.#out.queue(t);
      if (sender?.congested) await sender.room(1_000);
    }
    return { local, remote: targets.length };
  }

  /** Resolves once current subscriptions are announced (neighbours and DHT). */
  async whenAnnounced(): Promise<void> {
    // A scheduled announce settles its deferred once it ran; a subscription change
    // meanwhile schedules the next one, which is waited for too.
    while (this.#announceScheduled) await this.#announceScheduled.promise;
    await this.#announcing;
  }

  /**
   * Resolves once at least `min` (default 1) remote subscriber nodes of
   * `topic` are known — from neighbours' announcements or the DHT
   * directory — with how many are known. It wakes on every change of the
   * directory, and asks the DHT again with a growing backoff (100 ms to 5 s)
   * while too few are known. Rejects with `AbortedError` when `signal` aborts.
   *
   * @example
   * ```ts
   * import type { Node } from "../../mod.ts";
   * declare const node: Node;
   * await node.pubsub.ready("jobs.new", { min: 2, signal: AbortSignal.timeout(10_000) });
   * await node.publish("jobs.new", { id: 1 }); // reaches both
   * ```
   */
  async ready(topic: string, options: { min?: number; signal?: AbortSignal; realm?: string } = {}): Promise<number> {
    validateTopic(topic);
    const realm = this.#realm(options.realm);
    const { min = 1, signal } = options;
    if (signal?.aborted) throw new AbortedError("waiting for subscribers was cancelled");
    const aborted = deferred<never>();
    aborted.promise.catch(() => {}); // only ever raced
    const onAbort = () => aborted.reject(new AbortedError("waiting for subscribers was cancelled"));
    signal?.addEventListener("abort", onAbort, { once: true });
    let changed = deferred<void>();
    const off = this.#directory.onChange(() => changed.resolve());
    let backoff = 100;
    let refresh = false;
    try {
      for (;;) {
        changed = deferred(); // before the lookup: a change during it is not missed
        const known = await Promise.race([this.#directory.subscribers(realm, topic, { refresh }), aborted.promise]);
        if (known.length >= min) return known.length;
        refresh = false;
        const timer = setTimeout(() => {
          refresh = true; // no announcement in a while: ask the DHT again
          changed.resolve();
        }, backoff);
        try {
          await Promise.race([changed.promise, aborted.promise]);
        } finally {
          clearTimeout(timer);
        }
        if (refresh) backoff = Math.min(backoff * 2, 5_000);
      }
    } finally {
      off();
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Wait until queued messages were acknowledged by their receivers or dropped (or `timeout` ms passed). */
  async flush(timeout = 5_000): Promise<void> {
    await this.#out?.idle(timeout); // #out is undefined if never started
  }

  /** Local subscriptions matching `topic` (cached until subscriptions change). */
  #matching(realm: string, topic: string): Subscription[] {
    const key = `${realm}|${topic}`;
    let subs = this.#matchCache.get(key);
    if (!subs) {
      subs = [...(this.#subs.get(realm) ?? [])].filter((s) => matches(s.pattern, topic));
      if (this.#matchCache.size >= 4096) this.#matchCache.clear();
      this.#matchCache.set(key, subs);
    }
    return subs;
  }

  /** The subscriber nodes in `found` that the policy admits for a `"subscribe"` on `topic`. */
  async #admitted(found: NodeId[], realm: string, topic: string): Promise<NodeId[]> {
    let out: NodeId[] | undefined;
    for (let i = 0; i < found.length; i++) {
      let ok = this.#node.authorize(found[i], { kind: "subscribe", name: topic, realm });
      if (ok instanceof Promise) ok = await ok;
      if (ok && out) out.push(found[i]);
      if (!ok) {
        out ??= found.slice(0, i);
        this.#dropped.inc({ reason: "unauthorized" });
      }
    }
    return out ?? found;
  }

  /** A message from another node (`via` handed it over): authorized, then delivered. */
  #deliverRemote(message: PubSubMessage, via: NodeId): void {
    this.#activity.note(message.realm, message.topic);
    const op = {
      kind: "publish",
      name: message.topic,
      realm: message.realm,
      via: via.equals(message.publisher) ? undefined : via,
    } as const;
    const verdict = this.#node.authorize(message.publisher, op);
    if (verdict === true) {
      this.#deliverLocal(message, op);
    } else if (verdict === false) {
      this.#dropped.inc({ reason: "unauthorized" });
    } else {
      verdict.then((ok) => ok ? this.#deliverLocal(message, op) : this.#dropped.inc({ reason: "unauthorized" }));
    }
  }

  #deliverLocal(message: PubSubMessage, op?: Parameters<Authorize>[1]): number {
    const subs = this.#matching(message.realm, message.topic);
    let delivered = 0;
    for (const sub of subs) {
      const guard = op && this.#guards.get(sub);
      if (!guard) {
        sub.deliver(message);
        delivered++;
        continue;
      }
      const verdict = decide(message.publisher, op, guard);
      if (verdict === true) {
        sub.deliver(message);
        delivered++;
      } else if (verdict === false) {
        this.#dropped.inc({ reason: "unauthorized" });
      } else {
        verdict.then((ok) => {
          if (!ok) return this.#dropped.inc({ reason: "unauthorized" });
          sub.deliver(message);
          this.#delivered.inc();
        });
      }
    }
    if (delivered > 0) this.#delivered.inc(delivered);
    return delivered;
  }

  #patterns(realm: string): Set<string> {
    return new Set([...(this.#subs.get(realm) ?? [])].map((s) => s.pattern));
  }

  #announceTo(peer: NodeId, realm: string): void {
    if (!this.#subs.has(realm)) return;
    const patterns = [...this.#patterns(realm)];
    if (patterns.length === 0) return;
    this.#out.send(peer, encodeCbor({ t: "subs", r: realm, p: patterns }));
  }

  #scheduleAnnounce(): void {
    if (this.#announceTimer) return;
    const scheduled = this.#announceScheduled = deferred<void>();
    this.#announceTimer = setTimeout(() => {
      this.#announceTimer = null;
      this.#announcing = this.#announcing.then(() => this.#announce()).catch((error) =>
        this.#node.log.debug("announcing subscriptions failed", { error: (error as Error).message })
      );
      this.#announcing.then(() => {
        if (this.#announceScheduled === scheduled) this.#announceScheduled = null;
        scheduled.resolve();
      });
    }, 20);
  }

  async #announce(): Promise<void> {
    for (const realm of this.#subs.keys()) {
      const now = this.#patterns(realm);
      const before = this.#announced.get(realm) ?? new Set();
      if (now.size === before.size && [...now].every((p) => before.has(p))) continue;
      this.#announced.set(realm, now);
      // Neighbours hear it at once.
      const frame = encodeCbor({ t: "subs", r: realm, p: [...now] });
      for (const peer of this.#node.peers()) {
        if (this.#node.peer(peer)?.record?.realms.includes(realm)) this.#out.send(peer, frame);
      }
      // The DHT directory: one provider record per root with that root's patterns.
      const roots = new Map<string, string[]>();
      for (const p of now) roots.set(rootOf(p), [...(roots.get(rootOf(p)) ?? []), p]);
      for (const p of before) if (!roots.has(rootOf(p))) roots.set(rootOf(p), []);
      await Promise.all([...roots].map(([root, patterns]) => {
        const key = subscriptionKey(realm, root);
        // An empty list replaces our earlier record (publishers stop sending), then republishing stops.
        const done = this.#dht.provide(realm, key, { p: fitPatterns(patterns) }).catch(() => 0);
        const hier = subscriberLocatorFor(this.#locator, realm)?.announce(root, fitPatterns(patterns)).catch(() => 0);
        if (patterns.length === 0) return Promise.all([hier, done.then(() => this.#dht.unprovide(realm, key))]);
        return Promise.all([hier, done]);
      }));
    }
  }
}

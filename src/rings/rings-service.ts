/**
 * `RingsService` ("rings"): temporary peer-to-peer groups over WebRTC. A
 * ring is a name in a realm. Members find each other through the mesh —
 * presence on the ring's pub/sub topic, every `presenceInterval`, carrying
 * the member's signed record so the others learn how to reach it (usually
 * a relayed address through its gateway) — then connect pairwise over
 * WebRTC, signaled through the mesh (the member with the lower id offers).
 * Ring messages go over those WebRTC connections only, never relayed.
 * A member is down when its WebRTC connection closes, it says bye, or its
 * presence expires (`presenceExpiry`).
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { Counter } from "../metrics/registry.ts";
import type { NodeService, ServiceHost } from "../node/service.ts";
import { type ServiceKey, serviceKey } from "../node/service.ts";
import { PUBSUB, type PubSubService } from "../pubsub/pubsub.ts";
import type { PubSubMessage, Subscription } from "../pubsub/subscription.ts";
import type { Connection, Stream } from "../transport/connection.ts";
import { WEBRTC, type WebRtcService } from "../webrtc/webrtc-service.ts";
import {
  decodeHello,
  decodePresence,
  encodePresence,
  MAX_PRESENCE,
  MAX_RING_MESSAGE,
  RING_PROTOCOL,
} from "./messages.ts";
import { ringTopic, validateRingName } from "./messages.ts";
import { Ring } from "./ring.ts";

/** The service's key (for `needs` and `node.service`). */
export const RINGS: ServiceKey<RingsService> = serviceKey("rings");

/** Options of `RingsService`. */
export interface RingsOptions {
  /** How often a member announces itself, ms. Default 2 000. */
  presenceInterval?: number;
  /** A member whose presence is older than this is down, ms. Default 3 × `presenceInterval`. */
  presenceExpiry?: number;
  /** Rings joined at once. Default 32. */
  maxRings?: number;
  /** Members tracked per ring. Default 64. */
  maxMembers?: number;
}

/** Options of `RingsService.join`. */
export interface JoinOptions {
  /** The ring's realm; default the node's primary realm. */
  realm?: string;
}

/** A ring as `/status` and the console show it. */
export interface RingStatus {
  /** The ring's name. */
  name: string;
  /** Its realm. */
  realm: string;
  /** When it was joined, ms since epoch. */
  joinedAt: number;
  /** The other members: did, path (`webrtc` or `connecting`), since. */
  members: Array<{ id: string; path: "webrtc" | "connecting"; since: number }>;
}

interface Joined {
  ring: Ring;
  sub: Subscription;
  timer: ReturnType<typeof setInterval>;
  /** Ends the wait for more subscribers. */
  stop: AbortController;
}

/**
 * The rings service.
 *
 * @example
 * ```ts
 * import { RINGS } from "./rings-service.ts";
 * import type { Node } from "../../mod.ts";
 * declare const node: Node; // started with webrtcPlugins(...) (src/webrtc/plugin.ts)
 * const ring = await node.service(RINGS)!.join("standup");
 * ring.on("message", (from, data) => console.log(from.short, new TextDecoder().decode(data)));
 * ```
 */
export class RingsService implements NodeService {
  readonly name = "rings";
  readonly needs = [PUBSUB, WEBRTC];
  #opts: Required<RingsOptions>;
  #host?: ServiceHost;
  #pubsub?: PubSubService;
  #webrtc?: WebRtcService;
  #rings = new Map<string, Joined>();
  #offs: Array<() => void> = [];
  #attempts = new Map<string, number>();
  #m?: { messages: Counter; bytes: Counter; refused: Counter };

  /** A rings service with `options`. */
  constructor(options: RingsOptions = {}) {
    const presenceInterval = options.presenceInterval ?? 2_000;
    this.#opts = {
      presenceInterval,
      presenceExpiry: options.presenceExpiry ?? 3 * presenceInterval,
      maxRings: options.maxRings ?? 32,
      maxMembers: options.maxMembers ?? 64,
    };
  }

  start(host: ServiceHost): void {
    this.#host = host;
    this.#pubsub = host.use(PUBSUB);
    this.#webrtc = host.use(WEBRTC);
    const m = host.metrics;
    this.#m = {
      messages: m.counter("macula_ring_messages_total", "Ring messages, by direction (sent, received)."),
      bytes: m.counter("macula_ring_bytes_total", "Ring message bytes, by direction (sent, received)."),
      refused: m.counter("macula_ring_refused_total", "Ring streams and presence refused, by reason."),
    };
    this.#offs.push(
      host.handle(RING_PROTOCOL, (stream) => this.#inbound(stream)),
      this.#webrtc.onConnection((conn) => {
        for (const j of this.#rings.values()) j.ring.connected(conn);
      }),
    );
  }

  async stop(): Promise<void> {
    for (const off of this.#offs.splice(0)) off();
    await Promise.all([...this.#rings.values()].map((j) => j.ring.leave()));
  }

  /**
   * Join ring `name` (in `options.realm`, default the primary realm), or
   * return the ring already joined. Throws `RingError` (`E_RING_NAME`) for
   * a bad name, `Error` over `maxRings`.
   */
  join(name: string, options: JoinOptions = {}): Ring {
    const host = this.#started();
    validateRingName(name);
    const realm = options.realm ?? host.realms[0];
    const key = `${realm}/${name}`;
    const existing = this.#rings.get(key);
    if (existing) return existing.ring;
    if (this.#rings.size >= this.#opts.maxRings) throw new Error(`already in ${this.#opts.maxRings} rings`);
    const ring = new Ring(name, realm, {
      connection: (id) => this.#webrtc!.connection(id),
      leave: (r) => this.#leave(r),
      sent: (n) => {
        this.#m?.messages.inc({ direction: "sent" });
        this.#m?.bytes.inc({ direction: "sent" }, n);
      },
    });
    const sub = this.#pubsub!.subscribe(ringTopic(name), (msg) => this.#presence(ring, msg), { realm });
    const timer = setInterval(() => this.#tick(ring), this.#opts.presenceInterval);
    const joined: Joined = { ring, sub, timer, stop: new AbortController() };
    this.#rings.set(key, joined);
    void this.#announce(ring, "here");
    // The first announcements may reach nobody yet (subscriptions still spreading): a few more soon after,
    // and one each time pub/sub learns of another subscriber of the ring's topic.
    for (const delay of [100, 250, 500, 1_000].filter((d) => d < this.#opts.presenceInterval)) {
      setTimeout(() => ring.left || void this.#announce(ring, "here"), delay);
    }
    this.#watchSubscribers(ring, joined.stop.signal, 0);
    return ring;
  }

  /** The rings joined. */
  rings(): Ring[] {
    return [...this.#rings.values()].map((j) => j.ring);
  }

  /** The joined rings with their members (for `/status` and the console). */
  list(): RingStatus[] {
    return this.rings().map((r) => ({
      name: r.name,
      realm: r.realm,
      joinedAt: r.joinedAt,
      members: r.members().map((m) => ({ id: m.id.did, path: m.path, since: m.since })),
    }));
  }

  status(): Record<string, unknown> {
    return { rings: this.list() };
  }

  #started(): ServiceHost {
    if (!this.#host) throw new Error("the rings service is not running");
    return this.#host;
  }

  async #announce(ring: Ring, t: "here" | "bye"): Promise<void> {
    try {
      await this.#pubsub!.publish(ringTopic(ring.name), encodePresence({ t, record: this.#host!.record() }), {
        realm: ring.realm,
      });
    } catch (error) {
      this.#host?.log.debug("ring presence not published", { ring: ring.name, error: (error as Error).message });
    }
  }

  /** Announce each time pub/sub knows of more than `known` other subscribers of the ring's topic. */
  #watchSubscribers(ring: Ring, signal: AbortSignal, known: number): void {
    if (ring.left || signal.aborted || known >= this.#opts.maxMembers) return;
    this.#pubsub!.ready(ringTopic(ring.name), { realm: ring.realm, min: known + 1, signal }).then(
      (n) => {
        if (ring.left || signal.aborted) return;
        void this.#announce(ring, "here");
        this.#watchSubscribers(ring, signal, n);
      },
      () => {},
    );
  }

  #tick(ring: Ring): void {
    ring.expire(Date.now() - this.#opts.presenceExpiry);
    void this.#announce(ring, "here");
    for (const m of ring.members()) if (m.path === "connecting") this.#connect(ring, m.id);
  }

  #presence(ring: Ring, msg: PubSubMessage): void {
    const host = this.#host!;
    if (msg.publisher.equals(host.id) || ring.left) return;
    let t: "here" | "bye";
    try {
      if (!(msg.payload instanceof Uint8Array)) throw new Error("presence is not bytes");
      const p = decodePresence(msg.payload, msg.publisher);
      t = p.t;
      if (t === "here" && !ring.has(p.record.id)) {
        if (ring.members().length >= this.#opts.maxMembers) {
          this.#m?.refused.inc({ reason: "members" });
          return;
        }
        host.learn(p.record);
      }
    } catch (error) {
      this.#m?.refused.inc({ reason: "bad-presence" });
      host.log.debug("bad ring presence", { from: msg.publisher.short, error: (error as Error).message });
      return;
    }
    if (t === "bye") return ring.remove(msg.publisher, "left");
    if (ring.present(msg.publisher)) {
      // Someone new: answer with our presence at once, so it need not wait a whole interval.
      void this.#announce(ring, "here");
    }
    this.#connect(ring, msg.publisher);
  }

  /**
   * Get a WebRTC connection to member `id`: the open one, or a new one. The
   * lower id offers; the higher one too once the member has waited two
   * presence intervals (the lower may not see our presence).
   */
  #connect(ring: Ring, id: NodeId): void {
    const webrtc = this.#webrtc!;
    const open = webrtc.connection(id);
    if (open) return ring.connected(open);
    const since = ring.members().find((m) => m.id.equals(id))?.since ?? Date.now();
    const waited = Date.now() - since > 2 * this.#opts.presenceInterval;
    if (this.#host!.id.compare(id) >= 0 && !waited) return; // the other side offers
    const last = this.#attempts.get(id.hex) ?? 0;
    if (last > 0 && Date.now() - last < this.#opts.presenceInterval) return;
    this.#attempts.set(id.hex, Date.now());
    webrtc.connect(id).then(
      (conn) => {
        this.#attempts.delete(id.hex);
        for (const j of this.#rings.values()) j.ring.connected(conn);
      },
      (error) => this.#host?.log.debug("ring member not connected", { peer: id.short, error: error.message }),
    );
  }

  async #leave(ring: Ring): Promise<void> {
    const key = `${ring.realm}/${ring.name}`;
    const j = this.#rings.get(key);
    if (!j || j.ring !== ring) return;
    this.#rings.delete(key);
    clearInterval(j.timer);
    j.stop.abort();
    j.sub.unsubscribe();
    await this.#announce(ring, "bye");
  }

  async #inbound(stream: Stream): Promise<void> {
    const conn: Connection = stream.connection;
    if (conn.transport !== "webrtc") {
      this.#m?.refused.inc({ reason: "not-webrtc" });
      return stream.reset("ring messages run over WebRTC only");
    }
    let ring: Ring | undefined;
    try {
      const frame = await stream.readFrame(MAX_PRESENCE, "ring hello");
      if (!frame) return;
      const hello = decodeHello(frame);
      ring = this.#rings.get(`${hello.realm}/${hello.ring}`)?.ring;
    } catch (error) {
      this.#m?.refused.inc({ reason: "bad-hello" });
      return stream.reset(`bad ring hello: ${(error as Error).message}`);
    }
    if (!ring) {
      this.#m?.refused.inc({ reason: "not-joined" });
      return stream.reset("not in that ring");
    }
    // It knows the ring and holds a WebRTC connection to us: a member (its presence may not have arrived yet).
    ring.present(conn.remoteId);
    ring.connected(conn);
    try {
      for (let f = await stream.readFrame(MAX_RING_MESSAGE); f; f = await stream.readFrame(MAX_RING_MESSAGE)) {
        this.#m?.messages.inc({ direction: "received" });
        this.#m?.bytes.inc({ direction: "received" }, f.length);
        ring.deliver(conn.remoteId, f);
      }
    } catch {
      stream.reset("ring stream failed");
    }
  }
}

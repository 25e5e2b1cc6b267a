/**
 * `Ring`: one joined ring as its member sees it — the other members (found
 * through presence on the mesh), a direct WebRTC connection to each, and
 * messages over those connections only. The rings service
 * (`rings-service.ts`) drives it: presence in, connections up and down,
 * inbound messages.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { Connection, Stream } from "../transport/connection.ts";
import { Emitter } from "../util/events.ts";
import { RingError } from "./errors.ts";
import { encodeHello, MAX_PRESENCE, MAX_RING_MESSAGE, RING_PROTOCOL } from "./messages.ts";

/** Events of a ring. */
export type RingEvents = {
  /** A member is reachable: present, with a WebRTC connection. */
  "member:up": [id: NodeId];
  /** A member that was up is gone: left, its presence expired, or its connection closed. */
  "member:down": [id: NodeId, reason: string];
  /** A message from a member (over WebRTC). */
  message: [from: NodeId, data: Uint8Array];
};

/** A member as `Ring.members()` lists it. */
export interface RingMember {
  /** The member's id. */
  id: NodeId;
  /** `"webrtc"` when a WebRTC connection joins us, else `"connecting"`. */
  path: "webrtc" | "connecting";
  /** When its presence was first seen, ms since epoch. */
  since: number;
  /** When its presence was last seen, ms since epoch. */
  lastSeen: number;
}

/** What a ring needs from the service. */
export interface RingDriver {
  /** The live WebRTC connection to `id`, if any. */
  connection(id: NodeId): Connection | undefined;
  /** Leave: say bye, stop presence, forget the ring. */
  leave(ring: Ring): Promise<void>;
  /** Count a message sent. */
  sent(bytes: number): void;
}

interface Member {
  id: NodeId;
  since: number;
  lastSeen: number;
  conn?: Connection;
  out?: Promise<Stream>;
  outConn?: Connection;
  chain: Promise<void>;
}

/**
 * A joined ring.
 *
 * @example
 * ```ts
 * import type { Ring } from "./ring.ts";
 * declare const ring: Ring;
 * ring.on("message", (from, data) => console.log(from.short, data.length));
 * ring.on("member:up", (id) => ring.send(id, new TextEncoder().encode("hi")));
 * await ring.broadcast(new Uint8Array([1, 2, 3]));
 * ```
 */
export class Ring {
  /** When `join` was called, ms since epoch. */
  readonly joinedAt: number = Date.now();
  #members = new Map<string, Member>();
  #events = new Emitter<RingEvents>();
  #driver: RingDriver;
  #left = false;

  /** A ring `name` in `realm` (made by `RingsService.join`). */
  constructor(readonly name: string, readonly realm: string, driver: RingDriver) {
    this.#driver = driver;
  }

  /** Listen to `member:up`, `member:down` or `message`; returns the unsubscribe function. */
  on<K extends keyof RingEvents>(event: K, listener: (...args: RingEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** Whether `leave()` was called. */
  get left(): boolean {
    return this.#left;
  }

  /** The other members seen (present), with their path. */
  members(): RingMember[] {
    return [...this.#members.values()].map((m) => ({
      id: m.id,
      path: m.conn && !m.conn.isClosed ? "webrtc" : "connecting",
      since: m.since,
      lastSeen: m.lastSeen,
    }));
  }

  /** Members with a WebRTC connection now. */
  up(): NodeId[] {
    return [...this.#members.values()].filter((m) => m.conn && !m.conn.isClosed).map((m) => m.id);
  }

  /**
   * Resolve once at least `count` members are up (WebRTC connected).
   * Rejects with the signal's reason when `signal` aborts.
   */
  ready(count: number, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.up().length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const off = this.on("member:up", () => {
        if (this.up().length < count) return;
        off();
        resolve();
      });
      options.signal?.addEventListener("abort", () => {
        off();
        reject(options.signal!.reason);
      }, { once: true });
    });
  }

  /**
   * Send `data` to member `id` over the WebRTC connection to it. Rejects
   * with `RingError`: `E_RING_NOT_MEMBER`, `E_RING_NO_PATH` (no WebRTC
   * connection: ring messages are never relayed), `E_RING_OVERSIZED`
   * (over 64 KiB), `E_RING_LEFT`.
   */
  send(id: NodeId, data: Uint8Array): Promise<void> {
    if (this.#left) return Promise.reject(new RingError("E_RING_LEFT", `ring ${this.name} was left`));
    if (data.length > MAX_RING_MESSAGE) {
      return Promise.reject(
        new RingError("E_RING_OVERSIZED", `ring message of ${data.length} bytes is over ${MAX_RING_MESSAGE}`),
      );
    }
    const m = this.#members.get(id.hex);
    if (!m) return Promise.reject(new RingError("E_RING_NOT_MEMBER", `${id.did} is not in ring ${this.name}`));
    const conn = this.#driver.connection(id);
    if (!conn) {
      return Promise.reject(new RingError("E_RING_NO_PATH", `no WebRTC connection to ${id.did} (ring ${this.name})`));
    }
    const write = m.chain.then(async () => {
      const stream = await this.#stream(m, conn);
      await stream.writeFrame(data, MAX_RING_MESSAGE);
      this.#driver.sent(data.length);
    }).catch((error) => {
      m.out = undefined;
      if (error instanceof RingError) throw error;
      throw new RingError("E_RING_NO_PATH", `sending to ${id.short} failed: ${(error as Error).message}`);
    });
    m.chain = write.catch(() => {});
    return write;
  }

  /** Send `data` to every member that is up; resolves with how many it reached. */
  async broadcast(data: Uint8Array): Promise<number> {
    const results = await Promise.allSettled(this.up().map((id) => this.send(id, data)));
    return results.filter((r) => r.status === "fulfilled").length;
  }

  /** Leave the ring: members are told (`bye`), presence stops, streams close. */
  async leave(): Promise<void> {
    if (this.#left) return;
    this.#left = true;
    for (const m of this.#members.values()) {
      m.out?.then((s) => s.closeWrite()).catch(() => {});
    }
    this.#members.clear();
    await this.#driver.leave(this);
  }

  #stream(m: Member, conn: Connection): Promise<Stream> {
    if (!m.out || m.outConn !== conn) {
      m.outConn = conn;
      m.out = conn.openStream(RING_PROTOCOL).then(async (s) => {
        await s.writeFrame(encodeHello({ ring: this.name, realm: this.realm }), MAX_PRESENCE);
        return s;
      });
    }
    return m.out;
  }

  // ----- driven by the service -----

  /** A member's presence: add or refresh it. Returns true when it is new. */
  present(id: NodeId, now: number = Date.now()): boolean {
    if (this.#left) return false;
    const m = this.#members.get(id.hex);
    if (m) {
      m.lastSeen = now;
      return false;
    }
    this.#members.set(id.hex, { id, since: now, lastSeen: now, chain: Promise.resolve() });
    return true;
  }

  /** A message from member `from` arrived (dropped unless it is a member). */
  deliver(from: NodeId, data: Uint8Array): void {
    if (this.#members.has(from.hex)) this.#events.emit("message", from, data);
  }

  /** Whether `id` is a member now. */
  has(id: NodeId): boolean {
    return this.#members.has(id.hex);
  }

  /** A WebRTC connection to member `id` is up. */
  connected(conn: Connection): void {
    const m = this.#members.get(conn.remoteId.hex);
    if (!m || conn.isClosed || (m.conn === conn)) return;
    const wasUp = m.conn && !m.conn.isClosed;
    m.conn = conn;
    m.out = undefined;
    conn.closed.then(() => {
      if (this.#members.get(conn.remoteId.hex) !== m || m.conn !== conn) return;
      m.conn = undefined;
      m.out = undefined;
      this.#events.emit("member:down", m.id, "connection closed");
    });
    if (!wasUp) this.#events.emit("member:up", m.id);
  }

  /** Member `id` is gone (`reason`: left, presence expired). */
  remove(id: NodeId, reason: string): void {
    const m = this.#members.get(id.hex);
    if (!m) return;
    this.#members.delete(id.hex);
    m.out?.then((s) => s.closeWrite()).catch(() => {});
    if (m.conn && !m.conn.isClosed) this.#events.emit("member:down", id, reason);
  }

  /** Remove members whose presence is older than `before` (ms since epoch). */
  expire(before: number): void {
    for (const m of [...this.#members.values()]) if (m.lastSeen < before) this.remove(m.id, "presence expired");
  }
}

/**
 * The relay client: a `NodeService` that keeps reservations at relays —
 * the configured ones (`via`) and, automatically, connected nodes whose
 * record has the `relay` role and shares a realm — refreshes them at half
 * their time to live, re-makes them when a relay comes back (restart), and
 * advertises the relayed addresses they make dialable. It also takes
 * inbound circuits (`/macula/relay/stop/1`) from relays it is reserved at:
 * it runs the end-to-end Noise handshake as responder and hands the
 * connection to the relay transport.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { NodeRecord } from "../identity/node-record.ts";
import type { NodeService, ServiceHost } from "../node/service.ts";
import { type DirectAddress, formatAddress, parseAddress, type RelayedAddress } from "../transport/address.ts";
import type { Connection, Stream } from "../transport/connection.ts";
import { secureConnection } from "../transport/secure-session.ts";
import { withDeadline } from "../util/async.ts";
import { RelayRefusedError } from "./errors.ts";
import { PeerKeeper } from "./keeper.ts";
import { decodeStopRequest, encodeRelayAnswer, MAX_RELAY_MESSAGE, STOP_PROTOCOL } from "./messages.ts";
import { RELAY_ROLE } from "./relay-service.ts";
import { hopRequest, RELAY_TRANSPORT, type RelayTransport } from "./relay-transport.ts";

/** Options of `RelayClient`. */
export interface RelayClientOptions {
  /** Relays to reserve at: direct addresses with their `did:key`. */
  via?: readonly string[];
  /** How many relays found automatically (role `relay`, a shared realm) to reserve at. Default 2; 0 disables. */
  autoReserve?: number;
  /**
   * Whether the node needs automatic reservations now (e.g. it is not known
   * to be publicly reachable). Default: always. Configured relays (`via`)
   * are reserved at regardless.
   */
  needsRelay?: () => boolean;
  /**
   * Take circuits from directly connected peers we hold no reservation at
   * (gateways opening a browser's circuit to us; the end-to-end handshake
   * still proves who dials), at most this many at once. Default 32; 0 refuses them.
   */
  maxGatewayCircuits?: number;
}

/**
 * When to refresh a reservation of `ttl` ms: at half its lifetime, and at
 * least every minute, so that the connection to the relay never looks idle
 * to either side's idle sweep (5 min by default), which would end the
 * reservation with it.
 */
function refreshDelay(ttl: number): number {
  return Math.max(1_000, Math.min(ttl / 2, 60_000));
}

/** Where a reservation stands. */
export type ReservationState = "pending" | "reserved" | `refused: ${string}`;

interface RelayEntry {
  id: NodeId;
  /** Direct addresses of the relay (configured, or from its record). */
  addrs: DirectAddress[];
  configured: boolean;
  state: ReservationState;
  expires?: number;
  connection?: Connection;
  refresh?: ReturnType<typeof setTimeout>;
  error?: string;
  /** The connection whose closing is watched (once per connection). */
  watched?: Connection;
}

/**
 * The relay client.
 *
 * @example
 * ```ts
 * import { Node } from "../../mod.ts";
 * import { RelayClient } from "./relay-client.ts";
 * import { RelayTransport } from "./relay-transport.ts";
 * const transport = new RelayTransport();
 * await using node = await Node.start({
 *   dataDir: ".macula",
 *   port: 0,
 *   relay: false,
 *   transports: ["tcp", transport],
 *   services: [new RelayClient(transport, { via: [] })],
 * });
 * ```
 */
export class RelayClient implements NodeService {
  readonly name = "relay-client";
  readonly #transport: RelayTransport;
  readonly #o: RelayClientOptions;
  #host?: ServiceHost;
  #relays = new Map<string, RelayEntry>();
  #keeper?: PeerKeeper;
  #offs: Array<() => void> = [];
  #stopped = false;
  #gatewayCircuits = 0;

  /** A client reserving through `transport` (which must be among the node's transports). */
  constructor(transport: RelayTransport, options: RelayClientOptions = {}) {
    this.#transport = transport;
    this.#o = options;
  }

  start(host: ServiceHost): void {
    this.#host = host;
    this.#transport.reservedRelays = () =>
      [...this.#relays.values()].filter((r) => r.state === "reserved" && r.connection && !r.connection.isClosed)
        .map((r) => ({ id: r.id, connection: r.connection! }));
    this.#keeper = new PeerKeeper({
      dial: (id) => this.#reach(id),
      onConnected: (id, conn) => this.#reserve(id, conn),
      onFailed: (id, error) => {
        const r = this.#relays.get(id.hex);
        if (r && !(error instanceof RelayRefusedError)) r.state = "pending";
        if (r) r.error = (error as Error)?.message ?? String(error);
        host.log.debug("relay reservation not made", { relay: id.short, error: r?.error });
        this.#advertise();
      },
    });
    this.#offs.push(host.handle(STOP_PROTOCOL, (stream) => this.#onStop(stream)));
    this.#offs.push(host.on("peer:disconnect", (id) => {
      const r = this.#relays.get(id.hex);
      if (!r) return;
      clearTimeout(r.refresh);
      r.state = "pending";
      r.connection = undefined;
      this.#advertise();
      this.#keeper?.lost(id);
    }));
    this.#offs.push(host.on("peer:identify", (record) => {
      const r = this.#relays.get(record.id.hex);
      if (r?.state === "reserved") {
        const before = r.addrs.length;
        this.#learnAddrs(r);
        if (r.addrs.length !== before) this.#advertise();
      }
      this.#consider(record);
    }));
    for (const text of this.#o.via ?? []) {
      const addr = parseAddress(text, { requireId: true });
      if (addr.type !== "direct") throw new TypeError(`relay ${text} must be a direct address`);
      this.#add(addr.id!, [addr], true);
    }
  }

  stop(): void {
    this.#stopped = true;
    for (const off of this.#offs) off();
    this.#keeper?.stop();
    for (const r of this.#relays.values()) clearTimeout(r.refresh);
    this.#host?.advertise([]);
    this.#transport.reservedRelays = () => [];
  }

  /** Relays and where each reservation stands. */
  relays(): Array<{ relay: string; state: ReservationState; expires?: string; address?: string; error?: string }> {
    return [...this.#relays.values()].map((r) => ({
      relay: r.id.did,
      state: r.state,
      address: r.addrs[0] ? formatAddress(r.addrs[0]) : undefined,
      expires: r.expires && r.state === "reserved" ? new Date(r.expires).toISOString() : undefined,
      error: r.state === "reserved" ? undefined : r.error,
    }));
  }

  /** The relayed addresses this node advertises now. */
  addresses(): RelayedAddress[] {
    const out: RelayedAddress[] = [];
    for (const r of this.#relays.values()) {
      if (r.state !== "reserved") continue;
      for (const a of r.addrs.slice(0, 3)) out.push({ type: "relayed", relay: { ...a, id: r.id }, id: this.#host!.id });
    }
    return out;
  }

  status(): Record<string, unknown> {
    return { relays: this.relays(), addrs: this.addresses().map((a) => formatAddress(a)) };
  }

  peerInfo(id: NodeId): Record<string, unknown> | undefined {
    const conn = this.#host?.connection(id);
    if (!conn?.relayed) return undefined;
    return { relay: this.#transport.relayOf(conn)?.did };
  }

  /** Start reserving at a relay found in a peer's record (role `relay`, a shared realm). */
  #consider(record: NodeRecord): void {
    const max = this.#o.autoReserve ?? 2;
    if (this.#relays.has(record.id.hex) || !record.roles.includes(RELAY_ROLE)) return;
    if (this.#o.needsRelay && !this.#o.needsRelay()) return;
    if (!record.realms.some((r) => this.#host!.realms.includes(r))) return;
    const auto = [...this.#relays.values()].filter((r) => !r.configured).length;
    if (auto >= max) return;
    const addrs: DirectAddress[] = [];
    for (const text of record.addrs) {
      try {
        const a = parseAddress(text);
        if (a.type === "direct" && a.kind !== "memory") addrs.push({ ...a, id: record.id });
      } catch {
        // not an address we can use
      }
    }
    if (addrs.length) this.#add(record.id, addrs, false);
  }

  #add(id: NodeId, addrs: DirectAddress[], configured: boolean): void {
    if (id.equals(this.#host!.id) || this.#relays.has(id.hex)) return;
    this.#relays.set(id.hex, { id, addrs, configured, state: "pending" });
    this.#keeper!.keep(id);
  }

  /** Reach relay `id` directly (never through a relay), at one of its addresses. */
  async #reach(id: NodeId): Promise<Connection> {
    const r = this.#relays.get(id.hex);
    if (!r) throw new Error("relay no longer kept");
    const open = this.#host!.connection(id);
    if (open && !open.relayed) return open;
    let last: unknown;
    for (const a of r.addrs) {
      try {
        return await this.#transport.reach(a);
      } catch (error) {
        last = error;
      }
    }
    throw last;
  }

  /** Reserve (or refresh) at relay `id` over `conn`; a refusal is kept as the state and retried much later. */
  async #reserve(id: NodeId, conn: Connection): Promise<void> {
    const r = this.#relays.get(id.hex);
    if (!r || this.#stopped) return;
    clearTimeout(r.refresh);
    try {
      const { stream, answer } = await hopRequest(conn, { t: "reserve" });
      await stream.closeWrite().catch(() => {});
      const ttl = answer.ttl ?? 15 * 60_000;
      const refreshed = r.state === "reserved" && r.connection === conn;
      r.state = "reserved";
      r.connection = conn;
      this.#learnAddrs(r);
      r.expires = Date.now() + ttl;
      r.error = undefined;
      r.refresh = setTimeout(() => {
        this.#reserve(id, conn).catch(() => this.#keeper?.lost(id));
      }, refreshDelay(ttl));
      if (refreshed) this.#host?.log.debug("relay reservation refreshed", { relay: id.short, ttl_ms: ttl });
      else this.#host?.log.info("relay reservation made", { relay: id.short, ttl_ms: ttl });
      this.#advertise();
      // The reservation lives on this connection: when it closes (even with the relay still connected over
      // another one), the reservation is gone; make a new one.
      if (r.watched !== conn) {
        r.watched = conn;
        conn.closed.then(() => {
          if (this.#stopped || r.connection !== conn) return;
          clearTimeout(r.refresh);
          r.state = "pending";
          r.connection = undefined;
          this.#advertise();
          this.#keeper?.lost(id);
        });
      }
    } catch (error) {
      if (!(error instanceof RelayRefusedError)) throw error;
      r.state = `refused: ${error.reason}`;
      r.error = error.message;
      this.#host?.log.warn("relay refused the reservation", { relay: id.short, reason: error.reason });
      this.#advertise();
      this.#keeper?.retry(id, 60_000);
    }
  }

  /**
   * Add the relay's own announced addresses to those we know (configured
   * first): a relay reached over one transport (a gateway over WebSocket)
   * is reachable for others over the ones it announces (QUIC, TCP).
   */
  #learnAddrs(r: RelayEntry): void {
    const known = new Set(r.addrs.map((a) => formatAddress(a)));
    for (const text of this.#host?.peer(r.id)?.record?.addrs ?? []) {
      try {
        const a = parseAddress(text);
        if (a.type !== "direct" || a.kind === "memory" || known.has(formatAddress({ ...a, id: r.id }))) continue;
        known.add(formatAddress({ ...a, id: r.id }));
        r.addrs.push({ ...a, id: r.id });
      } catch {
        // not an address we can use
      }
    }
  }

  #advertise(): void {
    if (this.#stopped) return;
    this.#host?.advertise(this.addresses());
  }

  /** A relay hands us a circuit: accept it only from a relay we are reserved at, then run Noise as responder. */
  async #onStop(stream: Stream): Promise<void> {
    const request = await withDeadline(
      stream.readMessage(decodeStopRequest, MAX_RELAY_MESSAGE),
      10_000,
      "relay stop request",
    );
    if (request === null) return stream.reset("no request");
    const relay = stream.remoteId;
    const entry = this.#relays.get(relay.hex);
    const reserved = !!entry && entry.state === "reserved";
    const gateway = !reserved && this.#gatewayCircuits < (this.#o.maxGatewayCircuits ?? 32);
    if ((!reserved && !gateway) || stream.connection.relayed) {
      await stream.writeFrame(encodeRelayAnswer({ ok: false, reason: "no-reservation" }), MAX_RELAY_MESSAGE);
      await stream.closeWrite();
      return;
    }
    if (gateway) {
      this.#gatewayCircuits++;
      const done = () => this.#gatewayCircuits--;
      stream.closed.then(done, done);
    }
    await stream.writeFrame(encodeRelayAnswer({ ok: true }), MAX_RELAY_MESSAGE);
    const ctx = this.#transport.context!;
    let conn: Connection;
    try {
      conn = await secureConnection(stream, {
        role: "responder",
        keyPair: ctx.keyPair,
        expected: request.from,
        kind: RELAY_TRANSPORT,
        route: "relayed",
        remoteAddress: formatAddress({
          ...(entry?.addrs[0] ?? { type: "direct", kind: "relay", host: "relay", port: 0 }),
          id: relay,
        }),
        gate: ctx.gate,
        connectionOptions: ctx.connectionOptions,
      });
    } catch (error) {
      stream.reset("end-to-end handshake failed");
      ctx.onHandshakeError?.(error as Error, `via relay ${relay.short}`);
      return;
    }
    this.#transport.accept(conn, relay);
  }
}

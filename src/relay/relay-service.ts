/**
 * The relay server: a `NodeService` that, when a node serves as a relay,
 * takes reservations from nodes of its realms and forwards circuits to
 * them over `/macula/relay/hop/1` and `/macula/relay/stop/1`, and peers with
 * other relays so that a circuit may take one inter-relay hop.
 *
 * A circuit carries the end-to-end Noise session of the two end nodes: the
 * relay forwards ciphertext, throttled by token buckets (per circuit and in
 * total), never cut by a duration or byte cap.
 *
 * @module
 */
import { NodeId } from "../identity/node-id.ts";
import type { NodeRecord } from "../identity/node-record.ts";
import type { Counter } from "../metrics/registry.ts";
import type { NodeService, ServiceHost } from "../node/service.ts";
import { parseAddress, type PeerAddress } from "../transport/address.ts";
import type { Connection, Stream } from "../transport/connection.ts";
import { withDeadline } from "../util/async.ts";
import { pipeCircuit } from "./circuit.ts";
import { RelayRefusedError } from "./errors.ts";
import { PeerKeeper } from "./keeper.ts";
import { CircuitTable, DEFAULT_RELAY_LIMITS, type RelayLimits, Reservations } from "./limits.ts";
import {
  decodeHopRequest,
  decodeRelayAnswer,
  encodeHopRequest,
  encodeRelayAnswer,
  encodeStopRequest,
  HOP_PROTOCOL,
  type HopRequest,
  MAX_HOPS,
  MAX_RELAY_MESSAGE,
  STOP_PROTOCOL,
} from "./messages.ts";
import { TokenBucket } from "../util/token-bucket.ts";
import { isGatewayClient, reachForClient, reportGatewayMembership } from "./gateway.ts";

/** The role a serving relay announces in its node record. */
export const RELAY_ROLE = "relay";
/** How often a relay pings its peer relays, ms. */
const PEER_PING_INTERVAL = 60_000;
/** Time allowed for a control message (request or answer), ms. */
const CONTROL_TIMEOUT = 10_000;

/** Options of `RelayService`. */
export interface RelayServiceOptions extends RelayLimits {
  /**
   * Who may reserve: `"*"` (anyone), a list of realms, or (default) the
   * node's own realms. A node is judged by the realms its signed record lists.
   */
  realms?: "*" | readonly string[];
  /** Addresses (with their `did:key`) of relays to keep peered with. */
  peers?: readonly string[];
  /** Also peer with connected nodes whose record has the `relay` role and shares a realm. Default true. */
  discoverPeers?: boolean;
  /**
   * Dial `address` as the node does (the relay transport's `reach`); needed
   * for `peers`. Default: `host.connect` by id (addresses must be known).
   */
  dial?: (address: PeerAddress) => Promise<Connection>;
  /**
   * Serve peers connected over these transports as their gateway
   * (`gateway.ts`): they may reserve, and open circuits to any node this
   * node can connect to. Default none.
   */
  gateway?: readonly string[];
  /**
   * Serve only as a gateway: reservations and circuits from other peers are
   * refused (`relay-disabled`), except circuits to a gateway client reserved
   * here. Default false.
   */
  gatewayOnly?: boolean;
}

/**
 * The relay server.
 *
 * @example
 * ```ts
 * import { Node } from "../../mod.ts";
 * import { RelayService } from "./relay-service.ts";
 * await using relay = await Node.start({
 *   dataDir: ".macula",
 *   port: 0,
 *   roles: ["relay"],
 *   services: [new RelayService({ realms: "*", maxReservations: 64 })],
 * });
 * ```
 */
export class RelayService implements NodeService {
  readonly name = "relay";
  readonly #o: RelayServiceOptions;
  readonly #limits: Required<RelayLimits>;
  readonly #reservations: Reservations;
  readonly #circuits: CircuitTable;
  readonly #total: TokenBucket;
  #host?: ServiceHost;
  #offs: Array<() => void> = [];
  #keeper?: PeerKeeper;
  #peerAddrs = new Map<string, PeerAddress>();
  #peered = new Set<string>();
  #closing = new AbortController();
  #opened?: Counter;
  #refused?: Counter;
  #bytes?: Counter;

  /** A relay with `options` (limits default to `DEFAULT_RELAY_LIMITS`). */
  constructor(options: RelayServiceOptions = {}) {
    this.#o = options;
    this.#limits = { ...DEFAULT_RELAY_LIMITS };
    for (const [k, v] of Object.entries(options)) {
      if (k in DEFAULT_RELAY_LIMITS && typeof v === "number") (this.#limits as Record<string, number>)[k] = v;
    }
    this.#reservations = new Reservations(this.#limits.maxReservations);
    this.#circuits = new CircuitTable(this.#limits.maxCircuitsPerPeer, this.#limits.maxCircuits);
    this.#total = new TokenBucket(this.#limits.totalRate);
  }

  /** The limits in force. */
  get limits(): Readonly<Required<RelayLimits>> {
    return this.#limits;
  }

  /** Reservations held now. */
  get reservations(): number {
    return this.#reservations.size;
  }

  /** Circuits open now. */
  get circuits(): number {
    return this.#circuits.size;
  }

  start(host: ServiceHost): void {
    this.#host = host;
    const m = host.metrics;
    m.gauge("macula_relay_reservations", "Reservations held at this relay.", () => this.#reservations.size);
    m.gauge("macula_relay_circuits", "Circuits open through this relay.", () => this.#circuits.size);
    m.gauge(
      "macula_relay_limit",
      "Limits of this relay (operator settings).",
      () => Object.entries(this.#limits).map(([limit, v]) => [{ limit }, v]),
    );
    this.#opened = m.counter("macula_relay_circuits_opened_total", "Circuits opened through this relay.");
    this.#refused = m.counter(
      "macula_relay_refused_total",
      "Reservations and circuits this relay refused, by reason.",
    );
    this.#bytes = m.counter("macula_relay_bytes_total", "Bytes forwarded through circuits of this relay.");
    this.#offs.push(host.handle(HOP_PROTOCOL, (stream) => this.#onHop(stream)));
    if (this.#o.gateway?.length) this.#offs.push(reportGatewayMembership(host, this.#o.gateway));
    this.#startPeering(host);
  }

  stop(): void {
    for (const off of this.#offs) off();
    this.#offs = [];
    this.#keeper?.stop();
    this.#closing.abort();
    this.#reservations.clear();
  }

  status(): Record<string, unknown> {
    return {
      serving: this.#o.gatewayOnly ? "gateway" : true,
      gateway: this.#o.gateway ?? [],
      reservations: this.#reservations.list().map((r) => ({
        peer: r.id.did,
        expires: new Date(r.expires).toISOString(),
      })),
      circuits: this.#circuits.size,
      peers: [...this.#peered].map((did) => ({ relay: did, connected: this.#connected(did) })),
      limits: this.#limits,
    };
  }

  #startPeering(host: ServiceHost): void {
    const dial = this.#o.dial;
    this.#keeper = new PeerKeeper({
      dial: (id) => {
        const addr = this.#peerAddrs.get(id.did);
        return addr && dial ? dial(addr) : host.connect(id);
      },
      onFailed: (id, error) => host.log.debug("relay peer unreachable", { peer: id.short, error: String(error) }),
      backoffMax: 30_000,
    });
    for (const text of this.#o.peers ?? []) {
      const addr = parseAddress(text, { requireId: true });
      if (addr.type !== "direct") throw new TypeError(`relay peer ${text} must be a direct address`);
      if (addr.id!.equals(host.id)) continue;
      this.#peerAddrs.set(addr.id!.did, addr);
      this.#peered.add(addr.id!.did);
      this.#keeper.keep(addr.id!);
    }
    this.#offs.push(host.on("peer:disconnect", (id) => this.#keeper?.lost(id)));
    // A ping a minute keeps peering connections from looking idle to either side's idle sweep.
    const pinger = setInterval(() => {
      for (const did of this.#peered) {
        const id = NodeId.fromDid(did);
        if (host.connection(id)) host.ping(id, { signal: AbortSignal.timeout(10_000) }).catch(() => {});
      }
    }, PEER_PING_INTERVAL);
    this.#offs.push(() => clearInterval(pinger));
    if (this.#o.discoverPeers === false) return;
    this.#offs.push(host.on("peer:identify", (record) => {
      if (record.roles.includes(RELAY_ROLE) && !this.#keeper?.has(record.id) && this.#sharesRealm(record)) {
        this.#peered.add(record.id.did);
        this.#keeper?.keep(record.id);
      }
    }));
  }

  #connected(did: string): boolean {
    return this.#host!.peers().some((p) => p.did === did);
  }

  #sharesRealm(record: NodeRecord): boolean {
    return record.realms.some((r) => this.#host!.realms.includes(r));
  }

  /** May the node of `record` use this relay? */
  #admits(record: NodeRecord | undefined): boolean {
    const policy = this.#o.realms ?? this.#host!.realms;
    if (policy === "*") return true;
    return !!record && record.realms.some((r) => policy.includes(r));
  }

  /** The peer's record, waiting briefly for its identify when it just connected. */
  #recordOf(id: NodeId): Promise<NodeRecord | undefined> {
    const host = this.#host!;
    const known = host.peer(id)?.record;
    if (known) return Promise.resolve(known);
    return new Promise((resolve) => {
      const done = () => {
        off();
        clearTimeout(timer);
        resolve(host.peer(id)?.record);
      };
      const off = host.on("peer:identify", (record) => record.id.equals(id) && done());
      const timer = setTimeout(done, 5_000);
    });
  }

  async #onHop(stream: Stream): Promise<void> {
    const request = await withDeadline(
      stream.readMessage(decodeHopRequest, MAX_RELAY_MESSAGE),
      CONTROL_TIMEOUT,
      "relay hop request",
    );
    if (request === null) return stream.reset("no request");
    if (request.t === "reserve") return await this.#reserve(stream);
    await this.#connect(stream, request);
  }

  async #refuse(stream: Stream, reason: string): Promise<void> {
    this.#refused?.inc({ reason });
    this.#host?.log.debug("relay refused", { peer: stream.remoteId.short, reason });
    await stream.writeFrame(encodeRelayAnswer({ ok: false, reason }), MAX_RELAY_MESSAGE);
    await stream.closeWrite();
  }

  #gatewayClient(connection: Connection): boolean {
    return isGatewayClient(connection, this.#o.gateway ?? []);
  }

  async #reserve(stream: Stream): Promise<void> {
    if (stream.connection.relayed) return await this.#refuse(stream, "bad-request");
    if (this.#o.gatewayOnly && !this.#gatewayClient(stream.connection)) {
      return await this.#refuse(stream, "relay-disabled");
    }
    if (!this.#admits(await this.#recordOf(stream.remoteId))) return await this.#refuse(stream, "not-in-realm");
    const r = this.#reservations.reserve(stream.connection, this.#limits.reservationTtl);
    if (typeof r === "string") return await this.#refuse(stream, r);
    await stream.writeFrame(
      encodeRelayAnswer({
        ok: true,
        ttl: this.#limits.reservationTtl,
        limits: { circuits: this.#limits.maxCircuitsPerPeer, rate: this.#limits.circuitRate },
      }),
      MAX_RELAY_MESSAGE,
    );
    await stream.closeWrite();
  }

  async #connect(stream: Stream, request: HopRequest & { t: "connect" }): Promise<void> {
    const forwarded = "from" in request;
    const dialer = forwarded ? request.from : stream.remoteId;
    if (stream.connection.relayed) return await this.#refuse(stream, "hop-limit");
    if (request.target.equals(dialer) || request.target.equals(this.#host!.id)) {
      return await this.#refuse(stream, "bad-request");
    }
    if (forwarded && request.hops > MAX_HOPS) return await this.#refuse(stream, "hop-limit");
    if (!this.#admits(await this.#recordOf(stream.remoteId))) return await this.#refuse(stream, "not-in-realm");
    const reservation = this.#reservations.get(request.target);
    const client = !forwarded && this.#gatewayClient(stream.connection);
    if (this.#o.gatewayOnly && !client && !(reservation && this.#gatewayClient(reservation.connection))) {
      return await this.#refuse(stream, "relay-disabled");
    }
    const via = !forwarded && request.via && !request.via.equals(this.#host!.id) ? request.via : undefined;
    let peerRelay: Connection | undefined;
    if (!reservation && !client) {
      if (forwarded) return await this.#refuse(stream, "no-reservation");
      peerRelay = via ? this.#host!.connection(via) : undefined;
      if (!peerRelay || peerRelay.relayed) return await this.#refuse(stream, "no-reservation");
    }
    const release = this.#circuits.open(dialer);
    if (typeof release === "string") return await this.#refuse(stream, release);
    let other: Stream;
    try {
      other = reservation
        ? await this.#openStop(reservation.connection, dialer)
        : peerRelay
        ? await this.#forward(peerRelay, request.target, dialer)
        : await this.#clientCircuit(request.target, via, dialer);
    } catch (error) {
      release();
      const reason = error instanceof RelayRefusedError ? error.reason : "target-refused";
      return await this.#refuse(stream, reason);
    }
    try {
      await stream.writeFrame(encodeRelayAnswer({ ok: true }), MAX_RELAY_MESSAGE);
    } catch (error) {
      release();
      other.reset("dialer gone");
      throw error;
    }
    this.#opened?.inc();
    const rate = this.#limits.circuitRate;
    const pipe = (a: Stream, b: Stream) =>
      pipeCircuit(a, b, {
        buckets: [new TokenBucket(rate), this.#total],
        onBytes: (n) => this.#bytes?.inc({}, n),
        signal: this.#closing.signal,
      });
    pipe(stream, other).finally(release);
  }

  /**
   * A gateway client's circuit to a target not reserved here: through the
   * relay it named (`via`, where the target is reserved: another gateway),
   * else straight to the target, connecting to it as this node can.
   */
  async #clientCircuit(target: NodeId, via: NodeId | undefined, dialer: NodeId): Promise<Stream> {
    const host = this.#host!;
    if (via) {
      const relay = await reachForClient(host, via, CONTROL_TIMEOUT).catch(() => undefined);
      if (relay && !relay.relayed) return await this.#forward(relay, target, dialer);
    }
    return await this.#openStop(await reachForClient(host, target, CONTROL_TIMEOUT), dialer);
  }

  /** Ask the reserved target to take a circuit from `dialer`. */
  async #openStop(target: Connection, dialer: NodeId): Promise<Stream> {
    const stop = await target.openStream(STOP_PROTOCOL, { timeout: CONTROL_TIMEOUT });
    return await this.#ask(stop, encodeStopRequest({ from: dialer }));
  }

  /** Forward the circuit to a peer relay, one hop. */
  async #forward(peerRelay: Connection, target: NodeId, dialer: NodeId): Promise<Stream> {
    const hop = await peerRelay.openStream(HOP_PROTOCOL, { timeout: CONTROL_TIMEOUT });
    return await this.#ask(hop, encodeHopRequest({ t: "connect", target, from: dialer, hops: 1 }));
  }

  async #ask(stream: Stream, request: Uint8Array): Promise<Stream> {
    try {
      await stream.writeFrame(request, MAX_RELAY_MESSAGE);
      const answer = await withDeadline(
        stream.readMessage(decodeRelayAnswer, MAX_RELAY_MESSAGE),
        CONTROL_TIMEOUT,
        "relay answer",
      );
      if (answer === null) throw new RelayRefusedError("target-refused", "the stream ended before an answer");
      if (!answer.ok) throw new RelayRefusedError(answer.reason);
      return stream;
    } catch (error) {
      stream.reset("circuit refused");
      throw error;
    }
  }
}

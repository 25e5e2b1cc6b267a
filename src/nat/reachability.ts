/**
 * The reachability service (`"nat"`, key `REACHABILITY`): what the node
 * knows about its NAT and whether other sites can dial it.
 *
 * - **Mapping**: from the addresses peers observe us at (identify), judged
 *   by `classifyMapping` (endpoint-independent / endpoint-dependent /
 *   unknown, port-preserving, public IP).
 * - **Reachability**: it asks up to two directly connected peers that
 *   observed us at a public address to dial us back there
 *   (`/macula/dialback/1`, a fresh connection each). One success makes the
 *   node `public`, and the confirmed addresses go into its record
 *   (`host.advertise`), so nodes at other sites can dial it. Failures from
 *   two peers (or from the only one there is) make it `private`. Re-checked
 *   every 10 minutes and a moment after the observed addresses change.
 * - It also serves dial-backs for other nodes (see `dial-back.ts`).
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { Counter } from "../metrics/registry.ts";
import type { NodeService, ServiceHost, ServiceKey } from "../node/service.ts";
import { serviceKey } from "../node/service.ts";
import { parseAddress, type PeerAddress } from "../transport/address.ts";
import { DIALBACK_PROTOCOL, type DialbackLimits, DialbackServer, requestDialback } from "./dial-back.ts";
import { MAX_DIALBACK_ADDRS } from "./dial-back-messages.ts";
import { classifyMapping, isPublicIp, type NatMapping, ObservationLog, splitHostPort } from "./mapping.ts";

/** Whether other sites can dial this node. */
export type Reachability = "public" | "private" | "unknown";

/** What `onChange` listeners get. */
export interface ReachabilityState {
  /** Whether other sites can dial this node. */
  reachability: Reachability;
  /** The NAT mapping as judged now. */
  mapping: NatMapping;
  /** Addresses confirmed by a dial-back (announced in the record). */
  confirmed: string[];
}

/** Tunables of the reachability service. */
export interface ReachabilityOptions {
  /** Re-check this often, ms. Default 600 000 (10 min). */
  recheckInterval?: number;
  /** Wait this long after the observed addresses change before checking, ms. Default 2 000. */
  settle?: number;
  /** Peers asked for a dial-back per check. Default 2. */
  askPeers?: number;
  /** Deadline of one dial-back request, ms. Default 15 000. */
  requestTimeout?: number;
  /** Count non-public observed addresses too (tests on one host or one LAN). Default false. */
  includePrivate?: boolean;
  /** Limits of the dial-backs this node serves for others. */
  dialback?: DialbackLimits;
}

/** The key of the reachability service, for `node.service(REACHABILITY)` and `needs`. */
export const REACHABILITY: ServiceKey<ReachabilityService> = serviceKey("nat");

/**
 * The reachability service.
 *
 * @example
 * ```ts
 * import { REACHABILITY } from "./reachability.ts";
 * import type { Node } from "../api/node.ts";
 * declare const node: Node;
 * const nat = node.service(REACHABILITY)!;
 * nat.onChange(({ reachability, mapping }) => console.log(reachability, mapping.type));
 * console.log(nat.reachability(), nat.mapping().portPreserving);
 * ```
 */
export class ReachabilityService implements NodeService {
  readonly name = "nat";
  readonly #opts: Required<Omit<ReachabilityOptions, "dialback">> & { dialback: DialbackLimits };
  #host?: ServiceHost;
  #server?: DialbackServer;
  readonly #log = new ObservationLog();
  readonly #ids = new Map<string, NodeId>();
  #reachability: Reachability = "unknown";
  #mapping: NatMapping = { type: "unknown", portPreserving: false, observed: [] };
  #confirmed: string[] = [];
  #lastCheck?: number;
  #checking?: Promise<Reachability>;
  #settleTimer?: ReturnType<typeof setTimeout>;
  #interval?: ReturnType<typeof setInterval>;
  #listeners = new Set<(state: ReachabilityState) => void>();
  #offs: Array<() => void> = [];
  #abort = new AbortController();
  #checks?: Counter;

  /** A service with `options`. */
  constructor(options: ReachabilityOptions = {}) {
    this.#opts = {
      recheckInterval: 600_000,
      settle: 2_000,
      askPeers: 2,
      requestTimeout: 15_000,
      includePrivate: false,
      dialback: {},
      ...options,
    };
  }

  /** Register the dial-back protocol, follow identify reports, start the re-check timer. */
  start(host: ServiceHost): void {
    this.#host = host;
    const server = this.#server = new DialbackServer(host, this.#opts.dialback);
    this.#checks = host.metrics.counter(
      "macula_nat_dialback_requests_total",
      "Dial-back requests this node made, by result (ok, failed, error).",
    );
    host.metrics.gauge(
      "macula_nat_dialbacks_served",
      "Dial-back requests served (result=served) or refused (result=<reason>) by this node.",
      () => [
        [{ result: "served" }, server.served],
        ...Object.entries(server.refused).map(([r, n]): [{ result: string }, number] => [{ result: r }, n]),
      ],
    );
    this.#offs.push(
      host.handle(DIALBACK_PROTOCOL, (stream) => server.handle(stream)),
      host.on("peer:identify", (_record, conn, seen) => {
        if (conn.relayed) return; // a relay's view of us is the relay's business
        this.#ids.set(conn.remoteId.hex, conn.remoteId);
        const changed = this.#log.add({
          transport: seen.transport,
          observed: seen.address,
          by: conn.remoteId.hex,
          peer: conn.remoteAddress,
          at: seen.at,
        });
        this.#remap();
        // Not on every new peer: only a new address, or while nothing is known yet.
        if (changed || this.#reachability === "unknown") this.#scheduleCheck(this.#opts.settle);
      }),
    );
    this.#interval = setInterval(() => void this.check(), this.#opts.recheckInterval);
  }

  /** Stop the timers and the protocol; withdraw the advertised addresses. */
  stop(): void {
    this.#abort.abort();
    clearTimeout(this.#settleTimer);
    clearInterval(this.#interval);
    for (const off of this.#offs.splice(0)) off();
    this.#host?.advertise([]);
  }

  /** Whether other sites can dial this node, as last checked. */
  reachability(): Reachability {
    return this.#reachability;
  }

  /** The NAT mapping as judged from the observed addresses. */
  mapping(): NatMapping {
    return { ...this.#mapping, observed: [...this.#mapping.observed] };
  }

  /** Addresses confirmed by a dial-back (announced in the record). */
  confirmed(): string[] {
    return [...this.#confirmed];
  }

  /** Call `listener` when the reachability, the mapping type or the confirmed addresses change; returns `off`. */
  onChange(listener: (state: ReachabilityState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The `/status` section. */
  status(): Record<string, unknown> {
    const m = this.#mapping;
    return {
      reachability: this.#reachability,
      nat: { mapping: m.type, portPreserving: m.portPreserving, ...(m.publicIp ? { publicIp: m.publicIp } : {}) },
      observed: m.observed,
      confirmed: this.#confirmed,
      ...(this.#lastCheck ? { lastCheck: new Date(this.#lastCheck).toISOString() } : {}),
      dialbacks: { served: this.#server?.served ?? 0, refused: { ...this.#server?.refused } },
    };
  }

  /** Check now (joins a check under way): ask peers to dial us back; resolves with the verdict. */
  check(): Promise<Reachability> {
    return this.#checking ??= this.#check().finally(() => this.#checking = undefined);
  }

  #scheduleCheck(ms: number): void {
    clearTimeout(this.#settleTimer);
    this.#settleTimer = setTimeout(() => void this.check(), ms);
  }

  #listenPort(kind: "quic" | "tcp"): number | undefined {
    for (const text of this.#host?.record().addrs ?? []) {
      try {
        const a = parseAddress(text);
        if (a.type === "direct" && a.kind === kind && a.port > 0) return a.port;
      } catch {
        // not ours to judge
      }
    }
    return undefined;
  }

  #remap(): void {
    const before = this.#mapping;
    this.#mapping = classifyMapping(this.#log.list(), {
      listenPort: this.#listenPort("quic"),
      includePrivate: this.#opts.includePrivate,
    });
    if (before.type !== this.#mapping.type || before.portPreserving !== this.#mapping.portPreserving) this.#emit();
  }

  #emit(): void {
    const state = { reachability: this.#reachability, mapping: this.mapping(), confirmed: this.confirmed() };
    for (const l of this.#listeners) {
      try {
        l(state);
      } catch (error) {
        this.#host?.log.warn("reachability listener failed", { error: (error as Error).message });
      }
    }
  }

  /** Per connected peer that observed us at a usable address: the addresses to ask it to dial. */
  #candidates(): Array<{ id: NodeId; addrs: string[]; ip: string }> {
    const host = this.#host!;
    const tcpPort = this.#listenPort("tcp");
    const byPeer = new Map<string, { id: NodeId; addrs: string[]; ip: string }>();
    for (const o of this.#log.list()) {
      const addr = splitHostPort(o.observed);
      const id = this.#ids.get(o.by);
      const conn = id && host.connection(id);
      if (!addr || !id || !conn || conn.relayed) continue;
      if (!this.#opts.includePrivate && !isPublicIp(addr.host)) continue;
      // The peer only dials our address on the IP its connection shows; one IP per peer.
      const seenIp = splitHostPort(o.observed)!.host;
      const entry = byPeer.get(o.by) ?? { id, addrs: [], ip: seenIp };
      if (entry.ip !== seenIp) continue;
      const bracketed = seenIp.includes(":") ? `[${seenIp}]` : seenIp;
      const wanted = o.transport === "quic"
        ? [`quic://${bracketed}:${addr.port}`]
        : o.transport === "tcp" && tcpPort
        ? [`tcp://${bracketed}:${tcpPort}`]
        : [];
      for (const w of wanted) if (!entry.addrs.includes(w)) entry.addrs.push(w);
      if (entry.addrs.length) byPeer.set(o.by, entry);
    }
    // Ask peers at different IPs first.
    const all = [...byPeer.values()].map((c) => ({ ...c, addrs: c.addrs.slice(0, MAX_DIALBACK_ADDRS) }));
    const picked: typeof all = [];
    for (const c of all) if (!picked.some((p) => p.ip === c.ip)) picked.push(c);
    for (const c of all) if (!picked.includes(c)) picked.push(c);
    return picked;
  }

  async #check(): Promise<Reachability> {
    const host = this.#host;
    if (!host || this.#abort.signal.aborted) return this.#reachability;
    const candidates = this.#candidates();
    if (candidates.length === 0) return this.#reachability;
    const asked = candidates.slice(0, this.#opts.askPeers);
    const confirmed = new Set<string>();
    let failedPeers = 0;
    await Promise.all(asked.map(async ({ id, addrs }) => {
      const conn = host.connection(id);
      if (!conn) return;
      const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#opts.requestTimeout)]);
      try {
        const results = await requestDialback(conn, addrs, { signal });
        this.#checks?.inc({ result: results.some((r) => r.ok) ? "ok" : "failed" });
        for (const r of results) if (r.ok) confirmed.add(r.addr);
        if (!results.some((r) => r.ok)) failedPeers++;
      } catch (error) {
        this.#checks?.inc({ result: "error" });
        host.log.debug("dial-back request failed", { peer: id.short, error: (error as Error).message });
      }
    }));
    if (this.#abort.signal.aborted) return this.#reachability;
    this.#lastCheck = Date.now();
    let next = this.#reachability;
    if (confirmed.size > 0) next = "public";
    else if (failedPeers > 0 && failedPeers >= Math.min(2, candidates.length)) next = "private";
    const addrs = next === "public" ? [...confirmed].sort() : next === "private" ? [] : this.#confirmed;
    const changed = next !== this.#reachability || addrs.join(" ") !== this.#confirmed.join(" ");
    this.#reachability = next;
    this.#confirmed = addrs;
    if (changed) {
      host.advertise(addrs.map((a) => parseAddress(a) as PeerAddress));
      host.log.info("reachability", { reachability: next, confirmed: addrs.join(" "), mapping: this.#mapping.type });
      this.#emit();
    }
    return next;
  }
}

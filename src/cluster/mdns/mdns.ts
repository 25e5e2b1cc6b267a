/**
 * The `mdns` strategy: DNS-SD over multicast DNS (224.0.0.251:5353). Each
 * node publishes `_macula._udp.local` — a PTR to its instance
 * `macula-<id>._macula._udp.local`, with SRV (its SWIM port), TXT
 * (`v=1`, `id=did:key:…`) and A records per interface — answers queries for
 * it, and browses for others. mDNS is unauthenticated, so it only yields
 * candidate SWIM endpoints: a candidate is then contacted with a sealed
 * announcement, and admitted only if its reply authenticates (cluster
 * secret, signatures) like any other.
 *
 * @module
 */
import { monotonic } from "../clock.ts";
import type { NodeId } from "../../identity/node-id.ts";
import type { Logger } from "../../log/logger.ts";
import type { Datagram, SocketAddress, UdpApi, UdpSocket } from "../../platform/types.ts";
import { parseEndpoint } from "../endpoint.ts";
import type { ClusterInterface } from "../interfaces.ts";
import type { ClusterMetrics } from "../metrics.ts";
import { GroupReceiver } from "../sockets.ts";
import { Timers } from "../timers.ts";
import { decodeDns, type DnsMessage, type DnsRecord, DnsType, encodeDns } from "./dns.ts";

/** The DNS-SD service type. */
export const MDNS_SERVICE = "_macula._udp.local";
/** mDNS group and port. */
export const MDNS_GROUP = "224.0.0.251";
export const MDNS_PORT = 5353;

/** What `MdnsDiscovery` needs. */
export interface MdnsOptions {
  udp: UdpApi;
  id: NodeId;
  /** Interfaces to publish and browse on (re-read on every send). */
  interfaces(): ClusterInterface[];
  /** Our SWIM endpoints, one per interface. */
  endpoints(): string[];
  /** A candidate SWIM endpoint was found. */
  onCandidate(addr: SocketAddress): void;
  log: Logger;
  metrics?: ClusterMetrics;
  /** Group and port (tests use other ones). */
  group?: string;
  port?: number;
}

/** Build the answer set this node publishes on `iface` (exported for tests). */
export function serviceRecords(id: NodeId, iface: ClusterInterface, swimPort: number): DnsRecord[] {
  const instance = `macula-${id.short}.${MDNS_SERVICE}`;
  const host = `macula-${id.short}.local`;
  return [
    { name: MDNS_SERVICE, type: DnsType.PTR, ttl: 120, target: instance },
    {
      name: instance,
      type: DnsType.SRV,
      ttl: 120,
      cacheFlush: true,
      priority: 0,
      weight: 0,
      port: swimPort,
      target: host,
    },
    { name: instance, type: DnsType.TXT, ttl: 4500, cacheFlush: true, strings: ["v=1", `id=${id.did}`] },
    { name: host, type: DnsType.A, ttl: 120, cacheFlush: true, address: iface.address },
  ];
}

/**
 * Candidate SWIM endpoints in a response (instances other than `self`),
 * using A records when present and the packet's source otherwise.
 */
export function candidatesIn(msg: DnsMessage, from: SocketAddress, self: NodeId): SocketAddress[] {
  if (!msg.response) return [];
  const records = [...msg.answers, ...msg.additionals];
  const lower = (s: string) => s.toLowerCase();
  const out: SocketAddress[] = [];
  for (const ptr of records) {
    if (ptr.type !== DnsType.PTR || lower(ptr.name) !== MDNS_SERVICE || !("target" in ptr)) continue;
    const instance = lower(ptr.target);
    const txt = records.find((r) => r.type === DnsType.TXT && lower(r.name) === instance);
    if (txt && "strings" in txt && txt.strings.includes(`id=${self.did}`)) continue;
    const srv = records.find((r) => r.type === DnsType.SRV && lower(r.name) === instance);
    if (!srv || !("port" in srv) || srv.port === 0) continue;
    const a = records.find((r) => r.type === DnsType.A && lower(r.name) === lower(srv.target));
    const hostname = a && "address" in a ? a.address : from.hostname;
    out.push({ hostname, port: srv.port });
  }
  return out;
}

/**
 * Publish and browse `_macula._udp.local`.
 *
 * @example
 * ```ts
 * import type { MdnsOptions } from "./mdns.ts";
 * import { MdnsDiscovery } from "./mdns.ts";
 * declare const options: MdnsOptions;
 * const mdns = await MdnsDiscovery.start(options);
 * mdns.stop();
 * ```
 */
export class MdnsDiscovery {
  #o: MdnsOptions;
  #group: string;
  #port: number;
  #receiver!: GroupReceiver;
  #senders = new Map<string, UdpSocket>();
  #timers = new Timers();
  #lastResponse = -Infinity;
  #stopped = false;

  private constructor(options: MdnsOptions) {
    this.#o = options;
    this.#group = options.group ?? MDNS_GROUP;
    this.#port = options.port ?? MDNS_PORT;
  }

  /** Bind, join the group, announce twice and start browsing. */
  static async start(options: MdnsOptions): Promise<MdnsDiscovery> {
    const m = new MdnsDiscovery(options);
    m.#receiver = await GroupReceiver.open(options.udp, m.#group, m.#port, (d) => m.#onPacket(d));
    await m.refresh();
    m.#respond();
    m.#timers.after(1_000, () => m.#respond());
    let delay = 1_000;
    const browse = () => {
      m.#query();
      m.#timers.after(delay, browse);
      delay = Math.min(delay * 2, 60_000);
    };
    browse();
    return m;
  }

  /** Follow interface changes: join and open senders on new ones. */
  async refresh(): Promise<void> {
    const interfaces = this.#o.interfaces();
    await this.#receiver.join(interfaces);
    const wanted = new Set(interfaces.map((i) => i.address));
    for (const [address, s] of this.#senders) if (!wanted.has(address)) s.close(), this.#senders.delete(address);
    for (const iface of interfaces) {
      if (this.#senders.has(iface.address)) continue;
      // Responses must come from port 5353; share it with any other responder on the host.
      const bind = (port: number) =>
        this.#o.udp.bind({ hostname: iface.address, port, reuseAddress: true, loopback: true });
      const socket = await bind(this.#port).catch(() => bind(0)).catch(() => undefined);
      if (socket) this.#senders.set(iface.address, socket);
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#timers.clear();
    this.#receiver?.close();
    for (const s of this.#senders.values()) s.close();
  }

  #send(iface: ClusterInterface, msg: DnsMessage): void {
    const socket = this.#senders.get(iface.address);
    if (!socket || this.#stopped) return;
    const bytes = encodeDns(msg);
    this.#o.metrics?.sent("mdns", bytes.length);
    socket.send(bytes, { hostname: this.#group, port: this.#port }).catch(() => {});
  }

  #query(): void {
    for (const iface of this.#o.interfaces()) {
      this.#send(iface, {
        id: 0,
        response: false,
        questions: [{ name: MDNS_SERVICE, type: DnsType.PTR }],
        answers: [],
        authorities: [],
        additionals: [],
      });
    }
  }

  #respond(): void {
    this.#lastResponse = monotonic();
    const endpoints = this.#o.endpoints().map(parseEndpoint);
    for (const iface of this.#o.interfaces()) {
      const swim = endpoints.find((e) => e?.hostname === iface.address);
      if (!swim) continue;
      const [ptr, ...rest] = serviceRecords(this.#o.id, iface, swim.port);
      this.#send(iface, { id: 0, response: true, questions: [], answers: [ptr], authorities: [], additionals: rest });
    }
  }

  #onPacket(d: Datagram): void {
    let msg: DnsMessage;
    try {
      msg = decodeDns(d.data);
    } catch (error) {
      this.#o.metrics?.drop("malformed", d.data.length);
      this.#o.log.debug("dropped malformed mDNS packet", { error: (error as Error).message });
      return;
    }
    this.#o.metrics?.received("mdns", d.data.length);
    if (!msg.response) {
      const asked = msg.questions.some((q) =>
        q.name.toLowerCase() === MDNS_SERVICE && (q.type === DnsType.PTR || q.type === DnsType.ANY)
      );
      // Answer after 20-120 ms (RFC 6762 §6), at most once a second.
      if (asked && monotonic() - this.#lastResponse > 1_000) {
        this.#lastResponse = monotonic();
        this.#timers.after(20 + Math.random() * 100, () => this.#respond());
      }
      return;
    }
    for (const addr of candidatesIn(msg, d.from, this.#o.id)) this.#o.onCandidate(addr);
  }
}

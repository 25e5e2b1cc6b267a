/**
 * The NAT mapping of a node, judged from the addresses its peers observe it
 * at (identify's `observed`): the same public `ip:port` towards two
 * different peer endpoints means the NAT maps endpoint-independently (hole
 * punching can work); different ports mean endpoint-dependent ("symmetric").
 *
 * Only QUIC reports count for the mapping type: QUIC dials from the
 * listening port, so every QUIC report shows the mapping of that one port
 * (TCP dials from a new port each time). Reports of non-public addresses
 * (RFC 1918, loopback, link-local, shared 100.64/10, IPv6 ULA) are left
 * out unless asked for: a LAN peer sees our LAN address, which says nothing
 * about the NAT.
 *
 * @module
 */
import type { TransportKind } from "../transport/session.ts";

/** How a NAT maps our listening port towards different destinations. */
export type MappingType = "endpoint-independent" | "endpoint-dependent" | "unknown";

/** One peer's report of where it sees us, with where we see that peer. */
export interface Observation {
  /** Transport of the connection. */
  transport: TransportKind;
  /** Our address as the peer sees it (`host:port`). */
  observed: string;
  /** The reporting peer (its did or any stable key). */
  by: string;
  /** The peer's address as we see it (`host:port`): reports count as different endpoints by this. */
  peer: string;
  /** When it was reported, ms since epoch. */
  at: number;
}

/** What the reports say about our NAT. */
export interface NatMapping {
  /** Mapping behaviour (`unknown` until two peer endpoints reported over QUIC). */
  type: MappingType;
  /** Whether the public port equals our listening port. */
  portPreserving: boolean;
  /** The public IP peers see, if any public one was reported. */
  publicIp?: string;
  /** The reported addresses as `transport://host:port`, newest first. */
  observed: string[];
}

/** `host:port` (IPv6 in brackets) split, or null if it is not one. */
export function splitHostPort(text: string): { host: string; port: number } | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\[\]\s]+)):(\d{1,5})$/.exec(text);
  if (!m) return null;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return null;
  return { host: m[1] ?? m[2], port };
}

function ipv4(host: string): number[] | null {
  const parts = host.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
  return parts.map(Number);
}

/**
 * Is `host` an IP literal that is routable on the Internet (not private,
 * loopback, link-local, shared CGN space, unspecified or multicast)?
 *
 * @example
 * ```ts
 * import { isPublicIp } from "./mapping.ts";
 * isPublicIp("203.0.113.7"); // true
 * isPublicIp("192.168.1.4"); // false
 * ```
 */
export function isPublicIp(host: string): boolean {
  const v4 = ipv4(host);
  if (v4) {
    const [a, b] = v4;
    return !(a === 0 || a === 10 || a === 127 || a >= 224 || (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127));
  }
  if (!/^[0-9a-fA-F:.]+$/.test(host) || !host.includes(":")) return false;
  const h = host.toLowerCase();
  return !(h === "::" || h === "::1" || /^f[cd]/.test(h) || /^fe[89ab]/.test(h) || /^ff/.test(h) ||
    h.startsWith("::ffff:"));
}

/**
 * Judge the mapping from `observations` (any order). `listenPort` is our
 * QUIC listening port (for `portPreserving`); `includePrivate` counts
 * non-public addresses too (tests on one host).
 *
 * @example
 * ```ts
 * import { classifyMapping } from "./mapping.ts";
 * const at = Date.now();
 * classifyMapping([
 *   { transport: "quic", observed: "198.51.100.2:9443", by: "a", peer: "203.0.113.10:9443", at },
 *   { transport: "quic", observed: "198.51.100.2:9443", by: "b", peer: "203.0.113.11:9443", at },
 * ], { listenPort: 9443 });
 * // { type: "endpoint-independent", portPreserving: true, publicIp: "198.51.100.2", observed: [...] }
 * ```
 */
export function classifyMapping(
  observations: readonly Observation[],
  options: { listenPort?: number; includePrivate?: boolean } = {},
): NatMapping {
  const newest = [...observations].sort((a, b) => b.at - a.at);
  const observed = [...new Set(newest.map((o) => `${o.transport}://${o.observed}`))];
  const usable = newest.flatMap((o) => {
    const addr = splitHostPort(o.observed);
    return addr && (options.includePrivate || isPublicIp(addr.host)) ? [{ ...o, addr }] : [];
  });
  const quic: typeof usable = [];
  for (const o of usable) {
    // The newest report per peer endpoint (a peer seen at two endpoints counts twice: two mappings).
    if (o.transport === "quic" && !quic.some((q) => q.peer === o.peer)) quic.push(o);
  }
  const publicIp = (quic[0] ?? usable[0])?.addr.host;
  let type: MappingType = "unknown";
  if (quic.length >= 2) {
    const same = quic.every((q) => q.observed === quic[0].observed);
    type = same ? "endpoint-independent" : "endpoint-dependent";
  }
  const portPreserving = quic.length > 0 && options.listenPort !== undefined &&
    quic.every((q) => q.addr.port === options.listenPort);
  return publicIp === undefined ? { type, portPreserving, observed } : { type, portPreserving, publicIp, observed };
}

/**
 * The latest observation of each reporting peer, bounded in number and age.
 *
 * @example
 * ```ts
 * import { ObservationLog } from "./mapping.ts";
 * const log = new ObservationLog();
 * log.add({ transport: "quic", observed: "198.51.100.2:9443", by: "a", peer: "203.0.113.10:9443", at: Date.now() });
 * log.list().length; // 1
 * ```
 */
export class ObservationLog {
  #entries: Observation[] = [];
  readonly #max: number;
  readonly #maxAge: number;

  /** Keep at most `max` (default 16) reports, none older than `maxAge` ms (default 30 min). */
  constructor(options: { max?: number; maxAge?: number } = {}) {
    this.#max = options.max ?? 16;
    this.#maxAge = options.maxAge ?? 30 * 60_000;
  }

  /**
   * Record a report; it replaces the same peer's earlier report over the same
   * transport. Returns true if the set of observed addresses changed (a new
   * peer seeing us where others do is no change).
   */
  add(o: Observation): boolean {
    const before = this.#key();
    const rest = this.#entries.filter((e) => e.by !== o.by || e.transport !== o.transport);
    this.#entries = [o, ...rest].slice(0, this.#max);
    return this.#key() !== before;
  }

  /** The current reports, newest first (expired ones dropped). */
  list(now = Date.now()): Observation[] {
    this.#entries = this.#entries.filter((e) => now - e.at <= this.#maxAge);
    return [...this.#entries];
  }

  #key(): string {
    return [...new Set(this.#entries.map((e) => `${e.transport}://${e.observed}`))].sort().join(" ");
  }
}

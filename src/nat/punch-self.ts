/**
 * What a node knows of its own public side, for hole punching: the public
 * IP and listening address that peers observe (identify's `observed`, over
 * direct QUIC connections on the listening endpoint), and whether the NAT
 * maps endpoint-independently (two peers see the same public port) or
 * endpoint-dependently (they see different ports). This is the small,
 * swappable coupling to reachability: the punch service asks a
 * `SelfViewSource`, and this one (`ObservedSelf`) is the default until the
 * reachability service provides its own.
 *
 * @module
 */
import type { SocketAddress } from "../platform/types.ts";
import type { MappingType } from "./mapping.ts";
import { MAX_CANDIDATES } from "./punch-messages.ts";

/** What a node knows of its public side. */
export interface SelfView {
  /** Public IPs peers saw us at, newest first. */
  publicHosts: string[];
  /** Public addresses of our listening endpoint, newest first. */
  listen: SocketAddress[];
  /** The NAT's mapping, as far as known. */
  mapping: MappingType;
}

/**
 * Where the punch service gets the node's `SelfView`: given what identify
 * reports (`observed`), return the view to use (swap in the reachability
 * service's here).
 */
export type SelfViewSource = (observed: SelfView) => SelfView;

/** Parse `host:port` or `[v6]:port`; `null` when it is neither. */
export function parseHostPort(text: string): SocketAddress | null {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(text) ?? /^([0-9.]+):(\d{1,5})$/.exec(text);
  if (!m) return null;
  const port = Number(m[2]);
  return port > 0 && port < 65536 ? { hostname: m[1], port } : null;
}

/**
 * May a punch endpoint send to `addr`? Not to an unspecified, multicast or
 * broadcast address, nor to port 0: a peer's candidates are only what it
 * says, and we pre-open and dial them.
 *
 * @example
 * ```ts
 * import { isDialableCandidate } from "./punch-self.ts";
 * isDialableCandidate({ hostname: "203.0.113.7", port: 40123 }); // true
 * isDialableCandidate({ hostname: "239.1.1.1", port: 40123 }); // false
 * ```
 */
export function isDialableCandidate(addr: SocketAddress): boolean {
  if (addr.port <= 0 || addr.port > 65535) return false;
  const h = addr.hostname.toLowerCase();
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number);
    if ([a, b, c, d].some((x) => x > 255)) return false;
    return a !== 0 && a < 224 && !(a === 255 && b === 255 && c === 255 && d === 255);
  }
  if (!h.includes(":") || !/^[0-9a-f:.]+$/.test(h)) return false;
  return h !== "::" && !h.startsWith("ff");
}

/** One report of the address a peer sees our listening endpoint at. */
export interface SelfReport {
  /** Who reported it (any stable key, e.g. the peer id's hex). */
  by: string;
  /** `host:port` as the peer saw it. */
  address: string;
  /** When, ms since epoch. */
  at: number;
}

/**
 * The latest report per peer (bounded), and the `SelfView` they add up to.
 *
 * @example
 * ```ts
 * import { ObservedSelf } from "./punch-self.ts";
 * const self = new ObservedSelf();
 * self.add({ by: "relay-1", address: "203.0.113.7:9443", at: Date.now() });
 * self.add({ by: "relay-2", address: "203.0.113.7:9443", at: Date.now() });
 * self.view().mapping; // "endpoint-independent"
 * ```
 */
export class ObservedSelf {
  #reports = new Map<string, SocketAddress & { at: number }>();
  readonly #max: number;
  readonly #maxAge: number;

  /** Keep the latest report of at most `max` peers, none older than `maxAge` ms. */
  constructor(options: { max?: number; maxAge?: number } = {}) {
    this.#max = options.max ?? 16;
    this.#maxAge = options.maxAge ?? 30 * 60_000;
  }

  /** Take a report; malformed addresses are ignored. */
  add(report: SelfReport): void {
    const addr = parseHostPort(report.address);
    if (!addr) return;
    this.#reports.delete(report.by);
    this.#reports.set(report.by, { ...addr, at: report.at });
    while (this.#reports.size > this.#max) this.#reports.delete(this.#reports.keys().next().value!);
  }

  /** The view the reports of the last `maxAge` ms add up to. */
  view(now: number = Date.now()): SelfView {
    const fresh = [...this.#reports.values()].filter((r) => now - r.at <= this.#maxAge).sort((a, b) => b.at - a.at);
    const unique = <T>(xs: T[], key: (x: T) => string) => {
      const seen = new Set<string>();
      return xs.filter((x) => !seen.has(key(x)) && !!seen.add(key(x)));
    };
    const listen = unique(fresh.map(({ hostname, port }) => ({ hostname, port })), (a) => `${a.hostname}:${a.port}`);
    const publicHosts = unique(fresh.map((r) => r.hostname), (h) => h);
    let mapping: MappingType = "unknown";
    if (fresh.length >= 2) {
      const ports = new Set(fresh.map((r) => `${r.hostname}:${r.port}`));
      mapping = ports.size === 1 ? "endpoint-independent" : "endpoint-dependent";
    }
    return { publicHosts, listen, mapping };
  }
}

/**
 * The candidate addresses of a punch endpoint on local `port`: each public
 * IP with `port` (the NAT keeps the source port when it is free, as Linux
 * MASQUERADE does), then our observed listening addresses, then the local
 * IPv4 addresses with `port` (same-LAN peers). At most `MAX_CANDIDATES`.
 *
 * @example
 * ```ts
 * import { punchCandidates } from "./punch-self.ts";
 * const view = { publicHosts: ["203.0.113.7"], listen: [{ hostname: "203.0.113.7", port: 9443 }], mapping: "unknown" as const };
 * punchCandidates(view, 40123, ["10.1.0.2"]);
 * // 203.0.113.7:40123, 203.0.113.7:9443, 10.1.0.2:40123
 * ```
 */
export function punchCandidates(view: SelfView, port: number, local: readonly string[]): SocketAddress[] {
  const out: SocketAddress[] = [];
  const seen = new Set<string>();
  const push = (a: SocketAddress) => {
    const key = `${a.hostname}:${a.port}`;
    if (seen.has(key) || out.length >= MAX_CANDIDATES) return;
    seen.add(key);
    out.push(a);
  };
  for (const hostname of view.publicHosts) push({ hostname, port });
  for (const a of view.listen) push(a);
  for (const hostname of local) push({ hostname, port });
  return out;
}

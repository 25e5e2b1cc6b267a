/**
 * Which network interfaces clustering uses. By default every IPv4 address
 * of every non-loopback interface (Ethernet and Wi-Fi on a board), or the
 * interface of the node's listen address when that is a specific one;
 * `--cluster-interface NAME|ADDR` chooses explicitly (loopback only when
 * chosen, or as a fallback when there is nothing else).
 *
 * @module
 */
import type { InterfaceAddress } from "../platform/types.ts";
import { isIPv4, isLoopbackIPv4 } from "./endpoint.ts";

/** One IPv4 interface address clustering runs on. */
export interface ClusterInterface {
  name: string;
  address: string;
  netmask: string;
}

/** Result of `selectInterfaces`. */
export interface InterfaceSelection {
  selected: ClusterInterface[];
  /** Requested names/addresses that matched nothing (yet). */
  unmatched: string[];
  /** True when nothing but loopback was available and loopback was used. */
  loopbackFallback: boolean;
}

function toCluster(i: InterfaceAddress): ClusterInterface {
  const loopback = isLoopbackIPv4(i.address);
  return { name: i.name, address: i.address, netmask: i.netmask ?? (loopback ? "255.0.0.0" : "255.255.255.0") };
}

const LOOPBACK: ClusterInterface = { name: "lo", address: "127.0.0.1", netmask: "255.0.0.0" };

/**
 * Choose the interfaces to announce on and probe from.
 *
 * @example
 * ```ts
 * import { selectInterfaces } from "./interfaces.ts";
 * const all = [
 *   { name: "lo", address: "127.0.0.1", family: "IPv4" as const, internal: true },
 *   { name: "eth0", address: "192.168.1.20", family: "IPv4" as const, internal: false, netmask: "255.255.255.0" },
 *   { name: "wlan0", address: "192.168.4.7", family: "IPv4" as const, internal: false, netmask: "255.255.255.0" },
 * ];
 * selectInterfaces(all).selected.map((i) => i.name); // ["eth0", "wlan0"]
 * selectInterfaces(all, { wanted: ["wlan0"] }).selected.map((i) => i.address); // ["192.168.4.7"]
 * ```
 */
export function selectInterfaces(
  all: InterfaceAddress[],
  options: { wanted?: string[]; host?: string } = {},
): InterfaceSelection {
  const v4 = all.filter((i) => i.family === "IPv4" && isIPv4(i.address));
  const out = new Map<string, ClusterInterface>();
  const unmatched: string[] = [];
  if (options.wanted?.length) {
    for (const want of options.wanted) {
      const hits = v4.filter((i) => i.name === want || i.address === want);
      if (hits.length === 0 && want === "127.0.0.1") hits.push({ ...LOOPBACK, family: "IPv4", internal: true });
      if (hits.length === 0) unmatched.push(want);
      for (const h of hits) out.set(h.address, toCluster(h));
    }
    return { selected: [...out.values()], unmatched, loopbackFallback: false };
  }
  const host = options.host;
  if (host && host !== "0.0.0.0" && isIPv4(host)) {
    const hits = v4.filter((i) => i.address === host);
    if (hits.length === 0 && isLoopbackIPv4(host)) {
      hits.push({ ...LOOPBACK, address: host, family: "IPv4", internal: true });
    }
    for (const h of hits) out.set(h.address, toCluster(h));
    return { selected: [...out.values()], unmatched: hits.length ? [] : [host], loopbackFallback: false };
  }
  for (const i of v4) if (!i.internal && !isLoopbackIPv4(i.address)) out.set(i.address, toCluster(i));
  if (out.size > 0) return { selected: [...out.values()], unmatched, loopbackFallback: false };
  return { selected: [LOOPBACK], unmatched, loopbackFallback: true };
}

/** Same addresses in both lists (order-insensitive)? */
export function sameInterfaces(a: ClusterInterface[], b: ClusterInterface[]): boolean {
  const key = (l: ClusterInterface[]) => l.map((i) => i.address).sort().join(",");
  return key(a) === key(b);
}

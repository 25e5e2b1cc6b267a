/**
 * Turns listen sockets into the addresses a node announces: a wildcard
 * listen address expands to the machine's interface addresses (LAN first,
 * loopback last).
 *
 * @module
 */
import type { InterfaceAddress } from "../platform/types.ts";
import { addressKey, type PeerAddress } from "../transport/address.ts";

/** fe80::/10: link-local IPv6 needs a zone id, so it is not announced. */
function isLinkLocalV6(i: InterfaceAddress): boolean {
  return i.family === "IPv6" && /^fe[89ab]/i.test(i.address);
}

function isWildcard(host: string): boolean {
  return host === "0.0.0.0" || host === "::" || host === "[::]";
}

/**
 * Expand wildcard listen addresses into the machine's external interface
 * addresses (loopback only when the machine has no other).
 *
 * @example
 * ```ts
 * import { announceAddresses } from "./addresses.ts";
 * announceAddresses([{ type: "direct", kind: "tcp", host: "0.0.0.0", port: 9443 }], [
 *   { name: "eth0", address: "192.168.1.5", family: "IPv4", internal: false },
 * ]); // tcp 192.168.1.5:9443
 * ```
 */
export function announceAddresses(listen: PeerAddress[], interfaces: InterfaceAddress[]): PeerAddress[] {
  const out: PeerAddress[] = [];
  const seen = new Set<string>();
  const push = (a: PeerAddress) => {
    const key = addressKey(a);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(a);
    }
  };
  for (const l of listen) {
    if (l.type !== "direct" || !isWildcard(l.host)) {
      push(l);
      continue;
    }
    const v6 = l.host !== "0.0.0.0";
    const usable = interfaces.filter((i) => (i.family === "IPv4" || v6) && !isLinkLocalV6(i));
    const external = usable.filter((i) => !i.internal);
    for (const i of external) push({ ...l, host: i.address });
    // Loopback only when there is nothing else: other hosts dialing our
    // 127.0.0.1 would reach themselves.
    if (external.length === 0) push({ ...l, host: "127.0.0.1" });
  }
  // LAN addresses first, loopback last (stable otherwise).
  const loopback = (a: PeerAddress) => (a.type === "direct" && a.host === "127.0.0.1" ? 1 : 0);
  return out.sort((a, b) => loopback(a) - loopback(b));
}

/**
 * SWIM endpoints: the UDP `host:port` where a member answers probes.
 * IPv4 only for now (`10.0.0.5:40123`).
 *
 * @module
 */
import type { SocketAddress } from "../platform/types.ts";

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const ENDPOINT = /^([0-9.]{7,15}):(\d{1,5})$/;

/** Longest endpoint text, characters. */
export const MAX_ENDPOINT_TEXT = 21;

/** Is `text` a dotted-quad IPv4 address? */
export function isIPv4(text: string): boolean {
  return IPV4.test(text);
}

/** Is `text` an IPv4 multicast address (224.0.0.0/4)? */
export function isMulticastIPv4(text: string): boolean {
  if (!isIPv4(text)) return false;
  const first = Number(text.split(".")[0]);
  return first >= 224 && first <= 239;
}

/**
 * Parse `host:port` (IPv4, port 1-65535), or `null` if it is not one.
 *
 * @example
 * ```ts
 * import { formatEndpoint, parseEndpoint } from "./endpoint.ts";
 * parseEndpoint("10.0.0.5:40123"); // { hostname: "10.0.0.5", port: 40123 }
 * formatEndpoint({ hostname: "10.0.0.5", port: 40123 }); // "10.0.0.5:40123"
 * ```
 */
export function parseEndpoint(text: string): SocketAddress | null {
  const m = ENDPOINT.exec(text);
  if (!m || !isIPv4(m[1])) return null;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return null;
  return { hostname: m[1], port };
}

/** `host:port` of a socket address. */
export function formatEndpoint(addr: SocketAddress): string {
  return `${addr.hostname}:${addr.port}`;
}

function toUint32(ip: string): number {
  return ip.split(".").reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0);
}

/** Are `a` and `b` in the same IPv4 subnet under `netmask`? */
export function sameSubnet(a: string, b: string, netmask: string): boolean {
  if (!isIPv4(a) || !isIPv4(b) || !isIPv4(netmask)) return false;
  const mask = toUint32(netmask);
  return ((toUint32(a) & mask) >>> 0) === ((toUint32(b) & mask) >>> 0);
}

/** Is `ip` in 127.0.0.0/8? */
export function isLoopbackIPv4(ip: string): boolean {
  return ip.startsWith("127.");
}

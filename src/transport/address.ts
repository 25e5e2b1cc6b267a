/**
 * Dialable addresses: a tagged union of a direct socket address and a
 * relayed one, with a text form for each.
 *
 * **Direct** — `<scheme>://<host>[:<port>][/<did>]`, for example
 * `quic://192.168.1.20:9443/did:key:z6Mk…` or `tcp://[fd00::2]:9443/did:key:z6Mk…`.
 * The scheme is the name of the transport that dials it (an open set:
 * `[a-z][a-z0-9+.-]*`; built in are `quic`, `tcp` and `memory`). IPv6 hosts
 * are bracketed. `quic` and `tcp` need a port (1-65535); `memory://<name>`
 * has none; other schemes may give one. The trailing `did:key` is the node
 * id the dialer must expect: QUIC pins it in TLS, TCP checks it in the
 * Noise handshake.
 *
 * **Relayed** — `<direct address of the relay, with its did>/circuit/<did of the target>`,
 * for example `quic://1.2.3.4:9443/did:key:z…RELAY/circuit/did:key:z…TARGET`:
 * dial the relay, ask it for a stream to the target, and run the secure
 * session with the target end to end through that stream.
 *
 * The `type` tag leaves room for other forms later (e.g. WebRTC).
 *
 * @module
 */
import type { DidError } from "../identity/did.ts";
import { NodeId } from "../identity/node-id.ts";
import { AddressError } from "./errors.ts";
import type { TransportKind } from "./session.ts";

/** A socket address reached by dialing it with the transport named `kind`. */
export interface DirectAddress {
  /** Tag of the union. */
  type: "direct";
  /** The transport's name, also the scheme of the text form. */
  kind: TransportKind;
  /** Host name or IP literal (IPv6 without brackets); the name for `memory`. */
  host: string;
  /** Port (0 when the address has none, e.g. `memory`). */
  port: number;
  /** The node id the address belongs to, when present. */
  id?: NodeId;
}

/** An address reached through a relay node, which forwards a stream to the target `id`. */
export interface RelayedAddress {
  /** Tag of the union. */
  type: "relayed";
  /** The relay: a direct address naming the relay's id. */
  relay: DirectAddress & { id: NodeId };
  /** The target node. */
  id: NodeId;
}

/** A parsed address: direct or relayed (narrow on `type`). */
export type PeerAddress = DirectAddress | RelayedAddress;

const SCHEME = /^[a-z][a-z0-9+.-]*$/;

/** Is `name` usable as a transport name (and address scheme): `[a-z][a-z0-9+.-]*`, at most 32 characters? */
export function isTransportName(name: unknown): name is TransportKind {
  return typeof name === "string" && name.length <= 32 && SCHEME.test(name);
}
const PATTERN = /^([a-z][a-z0-9+.-]*):\/\/(\[[0-9a-fA-F:.]+\]|[^/:\[\]\s]+)(?::(\d{1,5}))?(?:\/(.*))?$/;
/** Separates the relay's id from the target's in a relayed address. */
const CIRCUIT = "/circuit/";
/** Schemes whose addresses must carry a port. */
const PORT_REQUIRED = new Set(["quic", "tcp"]);
/** Schemes whose addresses never carry a port. */
const PORTLESS = new Set(["memory"]);

function nodeId(did: string, text: string, what: string): NodeId {
  try {
    return NodeId.fromDid(did);
  } catch (error) {
    throw new AddressError(`address ${JSON.stringify(text)} has a bad ${what}: ${(error as DidError).message}`);
  }
}

/**
 * Parse an address string (direct or relayed). Throws `AddressError` with a
 * clear message, and nothing else, whatever the input.
 *
 * @example
 * ```ts
 * import { parseAddress } from "./address.ts";
 * const a = parseAddress("tcp://127.0.0.1:9443/did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp");
 * if (a.type === "direct") console.log(a.kind, a.port); // "tcp" 9443
 * ```
 */
export function parseAddress(text: string, opts: { requireId?: boolean } = {}): PeerAddress {
  if (typeof text !== "string" || text.length > 512) {
    throw new AddressError("address must be a string of at most 512 characters");
  }
  const m = PATTERN.exec(text.trim());
  if (!m) {
    throw new AddressError(
      `invalid address ${
        JSON.stringify(text)
      }: expected SCHEME://HOST[:PORT][/did:key:…], e.g. quic://HOST:PORT/did:key:… or tcp://HOST:PORT/did:key:…`,
    );
  }
  const kind = m[1];
  let host = m[2];
  if (host.startsWith("[")) host = host.slice(1, -1);
  let port = 0;
  if (!PORTLESS.has(kind)) {
    if (m[3] === undefined) {
      if (PORT_REQUIRED.has(kind)) throw new AddressError(`address ${JSON.stringify(text)} has no port`);
    } else {
      port = Number(m[3]);
      if (port < 1 || port > 65535) {
        throw new AddressError(`address ${JSON.stringify(text)} has port out of range 1-65535`);
      }
    }
  }
  const path = m[4] ?? "";
  const circuit = path.indexOf(CIRCUIT);
  if (circuit >= 0 || path.startsWith(CIRCUIT.slice(1))) {
    if (circuit <= 0) {
      throw new AddressError(`relayed address ${JSON.stringify(text)} must name the relay's node id before /circuit/`);
    }
    const relayId = nodeId(path.slice(0, circuit), text, "relay node id");
    const target = nodeId(path.slice(circuit + CIRCUIT.length), text, "target node id");
    return { type: "relayed", relay: { type: "direct", kind, host, port, id: relayId }, id: target };
  }
  const id = path ? nodeId(path, text, "node id") : undefined;
  if (opts.requireId && !id) {
    throw new AddressError(
      `address ${
        JSON.stringify(text)
      } does not name the node id; use the full address a node reports (…/did:key:z6Mk…)`,
    );
  }
  return { type: "direct", kind, host, port, id };
}

/** `host:port`, with IPv6 hosts in brackets. */
export function hostPort(addr: { hostname: string; port: number }): string {
  return addr.hostname.includes(":") ? `[${addr.hostname}]:${addr.port}` : `${addr.hostname}:${addr.port}`;
}

function formatDirect(addr: DirectAddress): string {
  const host = addr.host.includes(":") ? `[${addr.host}]` : addr.host;
  const withPort = !PORTLESS.has(addr.kind) && (addr.port > 0 || PORT_REQUIRED.has(addr.kind));
  return withPort ? `${addr.kind}://${host}:${addr.port}` : `${addr.kind}://${host}`;
}

/**
 * Format an address (the inverse of `parseAddress`); a direct address gets
 * its id appended when it has one.
 *
 * @example
 * ```ts
 * import { formatAddress, parseAddress } from "./address.ts";
 * const relay = "quic://1.2.3.4:9443/did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp";
 * const text = `${relay}/circuit/did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp`;
 * formatAddress(parseAddress(text)) === text; // true
 * ```
 */
export function formatAddress(addr: PeerAddress): string {
  if (addr.type === "relayed") return `${formatDirect(addr.relay)}/${addr.relay.id.did}${CIRCUIT}${addr.id.did}`;
  const base = formatDirect(addr);
  return addr.id ? `${base}/${addr.id.did}` : base;
}

/**
 * A key identifying where an address leads, ignoring the id of a direct
 * address (two ids claimed for one socket are one place to dial).
 */
export function addressKey(addr: PeerAddress): string {
  return addr.type === "direct" ? formatDirect(addr) : formatAddress(addr);
}

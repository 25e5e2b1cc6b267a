/**
 * Dialable address strings.
 *
 * A node reports each listening socket as `<transport>://<host>:<port>/<did>`,
 * for example `quic://192.168.1.20:9443/did:key:z6Mk…` or
 * `tcp://[fd00::2]:9443/did:key:z6Mk…`. The trailing `did:key` is the node
 * id the dialer must expect: QUIC pins it in TLS, TCP checks it in the Noise
 * handshake. In-process test links use `memory://<name>/<did>`.
 *
 * @module
 */
import type { DidError } from "../identity/did.ts";
import { NodeId } from "../identity/node-id.ts";
import { AddressError } from "./errors.ts";
import type { TransportKind } from "./session.ts";

/** A parsed address. */
export interface PeerAddress {
  kind: TransportKind;
  /** Host name or IP literal (IPv6 without brackets); the name for `memory`. */
  host: string;
  /** Port (0 for `memory`). */
  port: number;
  /** The node id the address belongs to, when present. */
  id?: NodeId;
}

const PATTERN = /^(quic|tcp|memory):\/\/(\[[0-9a-fA-F:.]+\]|[^/:\[\]\s]+)(?::(\d{1,5}))?(?:\/(.*))?$/;

/**
 * Parse an address string. Throws `AddressError` with a clear message.
 *
 * @example
 * ```ts
 * import { parseAddress } from "./address.ts";
 * const a = parseAddress("tcp://127.0.0.1:9443/did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp");
 * a.kind; // "tcp"
 * a.port; // 9443
 * ```
 */
export function parseAddress(text: string, opts: { requireId?: boolean } = {}): PeerAddress {
  if (typeof text !== "string" || text.length > 512) {
    throw new AddressError("address must be a string of at most 512 characters");
  }
  const m = PATTERN.exec(text.trim());
  if (!m) {
    throw new AddressError(
      `invalid address ${JSON.stringify(text)}: expected quic://HOST:PORT/did:key:… or tcp://HOST:PORT/did:key:…`,
    );
  }
  const kind = m[1] as TransportKind;
  let host = m[2];
  if (host.startsWith("[")) host = host.slice(1, -1);
  let port = 0;
  if (kind !== "memory") {
    if (m[3] === undefined) throw new AddressError(`address ${JSON.stringify(text)} has no port`);
    port = Number(m[3]);
    if (port < 1 || port > 65535) {
      throw new AddressError(`address ${JSON.stringify(text)} has port out of range 1-65535`);
    }
  }
  let id: NodeId | undefined;
  if (m[4]) {
    try {
      id = NodeId.fromDid(m[4]);
    } catch (error) {
      throw new AddressError(`address ${JSON.stringify(text)} has a bad node id: ${(error as DidError).message}`);
    }
  }
  if (opts.requireId && !id) {
    throw new AddressError(
      `address ${
        JSON.stringify(text)
      } does not name the node id; use the full address a node reports (…/did:key:z6Mk…)`,
    );
  }
  return { kind, host, port, id };
}

/** `host:port`, with IPv6 hosts in brackets. */
export function hostPort(addr: { hostname: string; port: number }): string {
  return addr.hostname.includes(":") ? `[${addr.hostname}]:${addr.port}` : `${addr.hostname}:${addr.port}`;
}

/** Format an address; appends the id when given. */
export function formatAddress(addr: PeerAddress): string {
  const host = addr.host.includes(":") ? `[${addr.host}]` : addr.host;
  const base = addr.kind === "memory" ? `memory://${host}` : `${addr.kind}://${host}:${addr.port}`;
  return addr.id ? `${base}/${addr.id.did}` : base;
}

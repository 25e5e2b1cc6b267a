/**
 * Test helpers for relays over loopback: a relay node, and "outbound-only"
 * nodes — they listen on 127.0.0.1 (the TCP transport needs a listener) but
 * announce no direct address, like a node behind a NAT nobody can dial: the
 * only address other nodes learn for them is the relayed one their
 * reservation makes. Whether a connection is relayed is judged from
 * `Connection.route`, never from timing.
 */
import { KeyPair } from "../../src/identity/ed25519.ts";
import { Logger } from "../../src/log/logger.ts";
import { currentPlatform } from "../../src/platform/current.ts";
import type { PeerAddress } from "../../src/transport/address.ts";
import type { Connection } from "../../src/transport/connection.ts";
import { TcpTransport } from "../../src/transport/tcp.ts";
import type { DialOptions, Transport, TransportContext } from "../../src/transport/transport.ts";
import type { NodeId } from "../../src/identity/node-id.ts";
import { Node, type NodeOptions } from "../../src/api/node.ts";
import { until } from "../helpers/nodes.ts";

/** A transport that listens and dials like `inner` but announces no address. */
export class Unannounced implements Transport {
  constructor(readonly inner: Transport) {}
  get kind() {
    return this.inner.kind;
  }
  get listenAddresses(): PeerAddress[] {
    return [];
  }
  start(ctx: TransportContext): Promise<void> {
    return this.inner.start(ctx);
  }
  canDial(address: PeerAddress): boolean {
    return this.inner.canDial(address);
  }
  dial(address: PeerAddress, expected: NodeId, options?: DialOptions): Promise<Connection> {
    return this.inner.dial(address, expected, options);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** A TCP transport on 127.0.0.1 (ephemeral port) that announces nothing. */
export function hiddenTcp(): Transport {
  return new Unannounced(new TcpTransport(currentPlatform().tcp, { host: "127.0.0.1", port: 0 }));
}

/** A relay on loopback (TCP only unless told otherwise). */
export function relayNode(options: Partial<NodeOptions> = {}, relay: NodeOptions["relay"] = {}): Promise<Node> {
  return Node.start({
    keyPair: KeyPair.generate(),
    host: "127.0.0.1",
    port: 0,
    logger: Logger.silent(),
    transports: ["tcp"],
    ...options,
    relay: { serve: true, ...(relay || {}) },
  });
}

/** The TCP address of `node` (with its id). */
export function tcpAddr(node: Node): string {
  const a = node.addrs.find((x) => x.startsWith("tcp://") && !x.includes("/circuit/"));
  if (!a) throw new Error(`no tcp address in ${node.addrs.join(" ")}`);
  return a;
}

/** The QUIC address of `node` (with its id). */
export function quicAddr(node: Node): string {
  const a = node.addrs.find((x) => x.startsWith("quic://") && !x.includes("/circuit/"));
  if (!a) throw new Error(`no quic address in ${node.addrs.join(" ")}`);
  return a;
}

/** An outbound-only node reserving at `relays` (addresses). */
export function privateNode(relays: string[], options: Partial<NodeOptions> = {}): Promise<Node> {
  return Node.start({
    keyPair: KeyPair.generate(),
    host: "127.0.0.1",
    port: 0,
    logger: Logger.silent(),
    transports: [hiddenTcp()],
    relay: { via: relays },
    ...options,
  });
}

/** The relayed addresses `node` announces. */
export function relayedAddrs(node: Node): string[] {
  return node.addrs.filter((a) => a.includes("/circuit/"));
}

/** Wait until `node` announces a relayed address (through `relay`, if given). */
export async function reserved(node: Node, relay?: Node, ms = 10_000): Promise<string> {
  await until(
    () => relayedAddrs(node).some((a) => !relay || a.includes(`${relay.did}/circuit/`)),
    ms,
    `a reservation of ${node.id.short}`,
  );
  return relayedAddrs(node).find((a) => !relay || a.includes(`${relay.did}/circuit/`))!;
}

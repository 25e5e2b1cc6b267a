/**
 * The UDP sockets of clustering:
 *
 * - one unicast socket per selected interface address, all on the same
 *   SWIM port where possible (`ifaceAddr:port`). They carry SWIM traffic
 *   and send multicast — on Linux a socket bound to an interface address
 *   sends multicast out of that interface, which is how announcements reach
 *   every LAN of a board with Ethernet and Wi-Fi;
 * - a receiver per multicast group (`group:port`, address shared with other
 *   processes), joined on every selected interface.
 *
 * @module
 */
import type { Datagram, SocketAddress, UdpApi, UdpSocket } from "../platform/types.ts";
import { formatEndpoint, isLoopbackIPv4, parseEndpoint, sameSubnet } from "./endpoint.ts";
import { ClusterError } from "./errors.ts";
import type { ClusterInterface } from "./interfaces.ts";

/** Receives datagrams. */
export type DatagramHandler = (datagram: Datagram) => void;

function pump(socket: UdpSocket, onDatagram: DatagramHandler, isOpen: () => boolean): void {
  (async () => {
    let errors = 0;
    while (isOpen()) {
      try {
        onDatagram(await socket.receive());
        errors = 0;
      } catch {
        if (!isOpen()) return;
        // e.g. an ICMP error surfaced on the socket; back off a little if it repeats
        await new Promise((r) => setTimeout(r, Math.min(1000, 10 * ++errors)));
      }
    }
  })();
}

/**
 * One SWIM socket per interface address.
 *
 * @example
 * ```ts
 * import { currentPlatform } from "../platform/current.ts";
 * import { InterfaceSockets } from "./sockets.ts";
 * const sockets = new InterfaceSockets(currentPlatform().udp!, { port: 0, onDatagram: (d) => console.log(d.from) });
 * await sockets.update([{ name: "lo", address: "127.0.0.1", netmask: "255.0.0.0" }]);
 * sockets.endpoints(); // ["127.0.0.1:40123"]
 * sockets.close();
 * ```
 */
export class InterfaceSockets {
  #udp: UdpApi;
  #port: number;
  #onDatagram: DatagramHandler;
  #open = new Map<string, { iface: ClusterInterface; socket: UdpSocket }>();
  #closed = false;

  constructor(udp: UdpApi, options: { port: number; onDatagram: DatagramHandler }) {
    this.#udp = udp;
    this.#port = options.port;
    this.#onDatagram = options.onDatagram;
  }

  /** Selected interfaces with an open socket. */
  get interfaces(): ClusterInterface[] {
    return [...this.#open.values()].map((o) => o.iface);
  }

  /** Open sockets for new interfaces and close those of vanished ones. Throws `ClusterError` if none opens. */
  async update(interfaces: ClusterInterface[]): Promise<void> {
    const wanted = new Set(interfaces.map((i) => i.address));
    for (const [address, o] of this.#open) {
      if (!wanted.has(address)) {
        o.socket.close();
        this.#open.delete(address);
      }
    }
    const errors: string[] = [];
    for (const iface of interfaces) {
      if (this.#open.has(iface.address)) continue;
      try {
        await this.#bind(iface);
      } catch (error) {
        errors.push(`${iface.address}:${this.#port}: ${(error as Error).message}`);
      }
    }
    if (this.#open.size === 0) throw new ClusterError(`cannot open a cluster socket: ${errors.join("; ")}`);
  }

  async #bind(iface: ClusterInterface): Promise<void> {
    const bind = (port: number) => this.#udp.bind({ hostname: iface.address, port, loopback: true });
    let socket: UdpSocket;
    const shared = this.#port || [...this.#open.values()][0]?.socket.addr.port || 0;
    try {
      socket = await bind(shared);
    } catch (error) {
      if (this.#port) throw error;
      socket = await bind(0);
    }
    this.#open.set(iface.address, { iface, socket });
    pump(socket, this.#onDatagram, () => !this.#closed && this.#open.get(iface.address)?.socket === socket);
  }

  /** Our SWIM endpoints, `host:port`. */
  endpoints(): string[] {
    return [...this.#open.values()].map((o) => formatEndpoint(o.socket.addr));
  }

  #socketFor(host: string): UdpSocket | undefined {
    const all = [...this.#open.values()];
    const hit = all.find((o) => sameSubnet(o.iface.address, host, o.iface.netmask)) ??
      (isLoopbackIPv4(host) ? all.find((o) => isLoopbackIPv4(o.iface.address)) : undefined) ??
      all.find((o) => !isLoopbackIPv4(o.iface.address)) ?? all[0];
    return hit?.socket;
  }

  /** Send a unicast datagram from the socket on the destination's subnet. */
  send(to: SocketAddress, bytes: Uint8Array): void {
    this.#socketFor(to.hostname)?.send(bytes, to).catch(() => {});
  }

  /** Send to a multicast group out of every interface. Returns the number of datagrams sent. */
  sendEverywhere(to: SocketAddress, bytes: Uint8Array): number {
    for (const o of this.#open.values()) o.socket.send(bytes, to).catch(() => {});
    return this.#open.size;
  }

  /** Of a member's endpoints, the one on a subnet we share (else the first). */
  pickEndpoint(addrs: string[]): string {
    const local = this.interfaces;
    return addrs.find((a) => {
      const host = parseEndpoint(a)?.hostname;
      return host !== undefined && local.some((i) => sameSubnet(i.address, host, i.netmask));
    }) ?? addrs[0];
  }

  close(): void {
    this.#closed = true;
    for (const o of this.#open.values()) o.socket.close();
    this.#open.clear();
  }
}

/**
 * A multicast receiver: `group:port` (shared with other processes),
 * joined on each interface.
 *
 * @example
 * ```ts
 * import { currentPlatform } from "../platform/current.ts";
 * import { GroupReceiver } from "./sockets.ts";
 * const rx = await GroupReceiver.open(currentPlatform().udp!, "230.1.1.251", 45892, (d) => console.log(d.from));
 * await rx.join([{ name: "lo", address: "127.0.0.1", netmask: "255.0.0.0" }]);
 * rx.close();
 * ```
 */
export class GroupReceiver {
  readonly group: string;
  readonly port: number;
  #socket: UdpSocket;
  #joined = new Set<string>();
  #closed = false;

  private constructor(socket: UdpSocket, group: string, port: number) {
    this.#socket = socket;
    this.group = group;
    this.port = port;
  }

  /** Bind `group:port` with address sharing and start receiving. */
  static async open(udp: UdpApi, group: string, port: number, onDatagram: DatagramHandler): Promise<GroupReceiver> {
    let socket: UdpSocket;
    try {
      socket = await udp.bind({ hostname: group, port, reuseAddress: true, loopback: true });
    } catch (error) {
      throw new ClusterError(`cannot listen for multicast on ${group}:${port}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const rx = new GroupReceiver(socket, group, port);
    pump(socket, onDatagram, () => !rx.#closed);
    return rx;
  }

  /** Join the group on exactly these interfaces (leaving others). Returns the addresses that failed. */
  async join(interfaces: ClusterInterface[]): Promise<string[]> {
    const wanted = new Set(interfaces.map((i) => i.address));
    for (const address of [...this.#joined]) {
      if (!wanted.has(address)) {
        this.#joined.delete(address);
        await this.#socket.leaveMulticastV4(this.group, address).catch(() => {});
      }
    }
    const failed: string[] = [];
    for (const address of wanted) {
      if (this.#joined.has(address)) continue;
      try {
        await this.#socket.joinMulticastV4(this.group, address);
        this.#joined.add(address);
      } catch {
        failed.push(address);
      }
    }
    return failed;
  }

  close(): void {
    this.#closed = true;
    this.#socket.close();
  }
}

/**
 * UDP for the Node platform, on `node:dgram`: unicast and IPv4 multicast,
 * with the pull-based `receive()` of `UdpSocket`.
 *
 * @module
 */
import dgram from "node:dgram";
import type { Datagram, SocketAddress, UdpApi, UdpBindOptions, UdpSocket } from "../types.ts";
import { preopenUdp } from "../udp-preopen.ts";

/** Datagrams queued while nobody calls `receive()`; older ones are dropped (UDP may drop). */
const MAX_QUEUED = 1024;

/** The socket was closed while `receive()` waited. */
export class UdpSocketClosedError extends Error {
  constructor() {
    super("UDP socket closed");
    this.name = "UdpSocketClosedError";
  }
}

class NodeUdpSocket implements UdpSocket {
  readonly addr: SocketAddress;
  #socket: dgram.Socket;
  #queue: Datagram[] = [];
  #waiting: Array<{ resolve(d: Datagram): void; reject(e: Error): void }> = [];
  #closed = false;

  constructor(socket: dgram.Socket) {
    this.#socket = socket;
    const a = socket.address();
    this.addr = { hostname: a.address, port: a.port };
    socket.on("message", (msg: Uint8Array, rinfo: dgram.RemoteInfo) => {
      const datagram = { data: new Uint8Array(msg), from: { hostname: rinfo.address, port: rinfo.port } };
      const waiter = this.#waiting.shift();
      if (waiter) return waiter.resolve(datagram);
      if (this.#queue.length >= MAX_QUEUED) this.#queue.shift();
      this.#queue.push(datagram);
    });
    socket.on("error", () => {}); // send errors reach send()'s callback; nothing else may crash the process
    socket.on("close", () => this.#end());
  }

  #end(): void {
    this.#closed = true;
    for (const w of this.#waiting.splice(0)) w.reject(new UdpSocketClosedError());
  }

  receive(): Promise<Datagram> {
    const next = this.#queue.shift();
    if (next) return Promise.resolve(next);
    if (this.#closed) return Promise.reject(new UdpSocketClosedError());
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  send(data: Uint8Array, to: SocketAddress): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#closed) return reject(new UdpSocketClosedError());
      this.#socket.send(data, to.port, to.hostname, (error) => error ? reject(error) : resolve());
    });
  }

  joinMulticastV4(group: string, iface: string): Promise<void> {
    try {
      this.#socket.addMembership(group, iface);
      return Promise.resolve();
    } catch (error) {
      // Joining twice is not an error (as on Deno).
      if ((error as { code?: string }).code === "EADDRINUSE") return Promise.resolve();
      return Promise.reject(error);
    }
  }

  leaveMulticastV4(group: string, iface: string): Promise<void> {
    try {
      this.#socket.dropMembership(group, iface);
    } catch {
      // not a member
    }
    return Promise.resolve();
  }

  close(): void {
    if (this.#closed) return;
    this.#end();
    try {
      this.#socket.close();
    } catch {
      // already closed
    }
  }
}

function bind(options: UdpBindOptions): Promise<UdpSocket> {
  const socket = dgram.createSocket({
    type: options.hostname.includes(":") ? "udp6" : "udp4",
    reuseAddr: options.reuseAddress ?? false,
  });
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.bind({ address: options.hostname, port: options.port }, () => {
      socket.off("error", reject);
      try {
        // As Deno's `loopback` option: our own multicast comes back only if asked for.
        socket.setMulticastLoopback(options.loopback ?? false);
        resolve(new NodeUdpSocket(socket));
      } catch (error) {
        socket.close();
        reject(error);
      }
    });
  });
}

/**
 * UDP sockets on `node:dgram`.
 *
 * @example
 * ```ts
 * import { nodeUdp } from "./udp.ts";
 * const a = await nodeUdp.bind({ hostname: "127.0.0.1", port: 0 });
 * const b = await nodeUdp.bind({ hostname: "127.0.0.1", port: 0 });
 * await a.send(new Uint8Array([1]), b.addr);
 * console.log((await b.receive()).from.port === a.addr.port); // true
 * a.close(), b.close();
 * ```
 */
export const nodeUdp: UdpApi = { bind, preopen: preopenUdp };

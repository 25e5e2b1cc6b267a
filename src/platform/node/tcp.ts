/**
 * TCP for the Node platform, on `node:net`: push-based sockets adapted to
 * the pull-based `read(buffer)` of `TcpSocket`, with flow control (the
 * socket pauses while too much unread data is queued).
 *
 * @module
 */
import net from "node:net";
import type { SocketAddress, TcpApi, TcpListener, TcpSocket } from "../types.ts";

/** Pause the socket when this many unread bytes are queued… */
const HIGH_WATER = 1024 * 1024;
/** …and resume it once reads bring the queue below this. */
const LOW_WATER = 256 * 1024;

/** The listener was closed while `accept()` waited. */
export class ListenerClosedError extends Error {
  constructor() {
    super("listener closed");
    this.name = "ListenerClosedError";
  }
}

class NodeTcpSocket implements TcpSocket {
  readonly localAddr: SocketAddress;
  readonly remoteAddr: SocketAddress;
  #socket: net.Socket;
  #chunks: Uint8Array[] = [];
  #queued = 0;
  #ended = false;
  #error: Error | null = null;
  #wake: (() => void) | null = null;

  constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    this.localAddr = { hostname: socket.localAddress ?? "", port: socket.localPort ?? 0 };
    this.remoteAddr = { hostname: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 };
    socket.on("data", (chunk: Uint8Array) => {
      this.#chunks.push(chunk);
      this.#queued += chunk.length;
      if (this.#queued >= HIGH_WATER) socket.pause();
      this.#notify();
    });
    socket.on("end", () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on("error", (error: Error) => {
      this.#error ??= error;
      this.#notify();
    });
    socket.on("close", () => {
      this.#ended = true;
      this.#notify();
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    while (true) {
      if (this.#chunks.length > 0) {
        let n = 0;
        while (n < buffer.length && this.#chunks.length > 0) {
          const chunk = this.#chunks[0];
          const take = Math.min(chunk.length, buffer.length - n);
          buffer.set(take === chunk.length ? chunk : chunk.subarray(0, take), n);
          n += take;
          if (take === chunk.length) this.#chunks.shift();
          else this.#chunks[0] = chunk.subarray(take);
        }
        this.#queued -= n;
        if (this.#queued < LOW_WATER && this.#socket.isPaused() && !this.#ended) this.#socket.resume();
        return n;
      }
      if (this.#error) throw this.#error;
      if (this.#ended) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
  }

  write(data: Uint8Array): Promise<void> {
    if (data.length === 0) return Promise.resolve();
    // Resolves once the bytes are handed to the kernel, so the caller may
    // reuse `data` afterwards and a slow peer holds the writer back.
    return new Promise((resolve, reject) => {
      this.#socket.write(data, (error) => error ? reject(error) : resolve());
    });
  }

  closeWrite(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#socket.writableEnded || this.#socket.destroyed) return resolve();
      this.#socket.end(() => resolve());
    });
  }

  close(): void {
    this.#socket.destroy();
  }
}

function listen(addr: SocketAddress): Promise<TcpListener> {
  // allowHalfOpen: a FIN from the peer ends only our read side (as on Deno), not our write side.
  const server = net.createServer({ allowHalfOpen: true });
  const ready: NodeTcpSocket[] = [];
  const waiting: Array<{ resolve(s: TcpSocket): void; reject(e: Error): void }> = [];
  let closed = false;
  server.on("connection", (raw: net.Socket) => {
    if (closed) return void raw.destroy();
    const socket = new NodeTcpSocket(raw);
    const waiter = waiting.shift();
    if (waiter) waiter.resolve(socket);
    else ready.push(socket);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: addr.hostname, port: addr.port }, () => {
      server.off("error", reject);
      server.on("error", () => {}); // accept errors (EMFILE…) must not crash the process
      const bound = server.address() as net.AddressInfo;
      resolve({
        addr: { hostname: bound.address, port: bound.port },
        accept(): Promise<TcpSocket> {
          const socket = ready.shift();
          if (socket) return Promise.resolve(socket);
          if (closed) return Promise.reject(new ListenerClosedError());
          return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
        },
        close(): void {
          if (closed) return;
          closed = true;
          server.close();
          for (const w of waiting.splice(0)) w.reject(new ListenerClosedError());
          for (const s of ready.splice(0)) s.close();
        },
      });
    });
  });
}

function connect(addr: SocketAddress): Promise<TcpSocket> {
  return new Promise((resolve, reject) => {
    const raw = net.connect({ host: addr.hostname, port: addr.port, allowHalfOpen: true });
    raw.once("error", reject);
    raw.once("connect", () => {
      raw.off("error", reject);
      resolve(new NodeTcpSocket(raw));
    });
  });
}

/**
 * TCP sockets on `node:net`.
 *
 * @example
 * ```ts
 * import { nodeTcp } from "./tcp.ts";
 * const listener = await nodeTcp.listen({ hostname: "127.0.0.1", port: 0 });
 * const client = await nodeTcp.connect(listener.addr);
 * const server = await listener.accept();
 * await client.write(new Uint8Array([1, 2, 3]));
 * const buf = new Uint8Array(8);
 * console.log(await server.read(buf)); // 3
 * client.close(), server.close(), listener.close();
 * ```
 */
export const nodeTcp: TcpApi = { listen, connect };

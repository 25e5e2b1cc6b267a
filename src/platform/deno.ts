/**
 * The Deno implementation of `Platform`.
 *
 * @module
 */
import type {
  Datagram,
  FileHandle,
  FileInfo,
  FsApi,
  HttpApi,
  InterfaceAddress,
  Platform,
  ProcessApi,
  QuicApi,
  QuicConnection,
  QuicEndpoint,
  SocketAddress,
  TcpApi,
  TcpListener,
  TcpSocket,
  UdpApi,
  UdpSocket,
} from "./types.ts";
import { preopenUdp } from "./udp-preopen.ts";

function socketAddress(addr: Deno.Addr): SocketAddress {
  const a = addr as Deno.NetAddr;
  return { hostname: a.hostname, port: a.port };
}

class DenoTcpSocket implements TcpSocket {
  readonly localAddr: SocketAddress;
  readonly remoteAddr: SocketAddress;
  #conn: Deno.TcpConn;
  #closed = false;

  constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    conn.setNoDelay(true);
    this.localAddr = socketAddress(conn.localAddr);
    this.remoteAddr = socketAddress(conn.remoteAddr);
  }

  read(buffer: Uint8Array): Promise<number | null> {
    return this.#conn.read(buffer);
  }

  async write(data: Uint8Array): Promise<void> {
    let off = 0;
    while (off < data.length) off += await this.#conn.write(data.subarray(off));
  }

  closeWrite(): Promise<void> {
    return this.#conn.closeWrite();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }
}

const tcp: TcpApi = {
  listen(addr: SocketAddress): Promise<TcpListener> {
    // Deno binds synchronously; the Promise (whose executor turns a bind error
    // into a rejection) is for runtimes that bind asynchronously.
    return new Promise((resolve) => {
      const listener = Deno.listen({
        hostname: addr.hostname,
        port: addr.port,
        transport: "tcp",
      });
      resolve({
        addr: socketAddress(listener.addr),
        async accept() {
          return new DenoTcpSocket(await listener.accept());
        },
        close() {
          try {
            listener.close();
          } catch {
            // already closed
          }
        },
      });
    });
  },
  async connect(addr: SocketAddress): Promise<TcpSocket> {
    return new DenoTcpSocket(
      await Deno.connect({
        hostname: addr.hostname,
        port: addr.port,
        transport: "tcp",
      }),
    );
  },
};

const quic: QuicApi = {
  createEndpoint(addr: SocketAddress): QuicEndpoint {
    const endpoint = new Deno.QuicEndpoint({
      hostname: addr.hostname,
      port: addr.port,
    });
    let listener: Deno.QuicListener | undefined;
    let closed = false;
    return {
      addr: socketAddress(endpoint.addr),
      listen(options, onConnection) {
        listener = endpoint.listen(options);
        // Accept with the transport options spelled out: Deno then builds the connection's server config
        // from them (quinn's accept_with) instead of the endpoint's, which `stop()` clears: an incoming
        // accepted after that (a late Initial racing close) panicked in quinn-proto (endpoint.rs:556).
        const {
          keepAliveInterval,
          maxIdleTimeout,
          maxConcurrentBidirectionalStreams,
          maxConcurrentUnidirectionalStreams,
        } = options;
        const transport = {
          keepAliveInterval,
          maxIdleTimeout,
          maxConcurrentBidirectionalStreams,
          maxConcurrentUnidirectionalStreams,
        };
        (async () => {
          try {
            for await (const incoming of listener!) {
              // Note: reading incoming.remoteAddr invalidates the incoming
              // resource in Deno 2.9, so the address comes from the
              // accepted connection instead.
              let accepted: Promise<QuicConnection>;
              try {
                if (closed) {
                  incoming.ignore();
                  continue;
                }
                accepted = incoming.accept(transport) as Promise<QuicConnection>;
              } catch {
                continue;
              }
              onConnection(accepted);
            }
          } catch {
            // listener stopped
          }
        })();
      },
      connect(options) {
        return Deno.connectQuic({ ...options, endpoint }) as Promise<
          QuicConnection
        >;
      },
      close() {
        closed = true;
        try {
          listener?.stop();
        } catch {
          // already stopped
        }
        try {
          endpoint.close();
        } catch {
          // already closed
        }
      },
    };
  },
};

class DenoUdpSocket implements UdpSocket {
  readonly addr: SocketAddress;
  #conn: Deno.DatagramConn;
  #memberships = new Map<string, Deno.MulticastV4Membership>();
  #loopback: boolean;
  #closed = false;

  constructor(conn: Deno.DatagramConn, loopback: boolean) {
    this.#conn = conn;
    this.#loopback = loopback;
    this.addr = socketAddress(conn.addr);
  }

  async receive(): Promise<Datagram> {
    const [data, from] = await this.#conn.receive();
    return { data, from: socketAddress(from) };
  }

  async send(data: Uint8Array, to: SocketAddress): Promise<void> {
    await this.#conn.send(data, { transport: "udp", hostname: to.hostname, port: to.port });
  }

  async joinMulticastV4(group: string, iface: string): Promise<void> {
    const key = `${group}@${iface}`;
    if (this.#memberships.has(key)) return;
    const membership = await this.#conn.joinMulticastV4(group, iface);
    if (this.#loopback) await membership.setLoopback(true);
    this.#memberships.set(key, membership);
  }

  async leaveMulticastV4(group: string, iface: string): Promise<void> {
    const key = `${group}@${iface}`;
    const membership = this.#memberships.get(key);
    this.#memberships.delete(key);
    await membership?.leave();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }
}

function hasUdp(): boolean {
  return typeof (Deno as { listenDatagram?: unknown }).listenDatagram === "function";
}

const udp: UdpApi = {
  bind(options) {
    try {
      const conn = Deno.listenDatagram({
        transport: "udp",
        hostname: options.hostname,
        port: options.port,
        reuseAddress: options.reuseAddress ?? false,
        loopback: options.loopback ?? false,
      });
      return Promise.resolve(new DenoUdpSocket(conn, options.loopback ?? false));
    } catch (error) {
      return Promise.reject(error);
    }
  },
  // Deno.DatagramConn has no TTL setting; node:dgram has (setTTL works under Deno).
  preopen: preopenUdp,
};

const http: HttpApi = {
  serve(addr, handler) {
    return new Promise((resolve, reject) => {
      try {
        const server = Deno.serve({
          hostname: addr.hostname,
          port: addr.port,
          onListen: (a) =>
            resolve({
              addr: { hostname: a.hostname, port: a.port },
              close: () => server.shutdown(),
            }),
          onError: () => new Response("internal error", { status: 500 }),
        }, (request, info) => {
          const remote = info.remoteAddr as { hostname?: string; port?: number };
          return handler(request, { remoteAddr: { hostname: remote.hostname ?? "unknown", port: remote.port ?? 0 } });
        });
      } catch (error) {
        reject(error);
      }
    });
  },
  upgradeWebSocket(request) {
    const { socket, response } = Deno.upgradeWebSocket(request);
    return { socket, response };
  },
};

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? (i === 0 ? "/" : ".") : path.slice(0, i);
}

/**
 * Positional access over a Deno file: seek + read/write, one operation at a
 * time (the seek is skipped when the file offset is already there, so
 * sequential access costs one call per operation).
 */
class DenoFileHandle implements FileHandle {
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** The file offset, or -1 when unknown (after an error). */
  #pos = 0;

  constructor(private readonly file: Deno.FsFile) {}

  #run<T>(op: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(() => {
      if (this.#closed) throw new Deno.errors.BadResource("file is closed");
      return op();
    });
    this.#queue = next.catch(() => {
      this.#pos = -1;
    });
    return next;
  }

  async #seek(position: number): Promise<void> {
    if (position === this.#pos) return;
    this.#pos = -1;
    await this.file.seek(position, Deno.SeekMode.Start);
    this.#pos = position;
  }

  readAt(buffer: Uint8Array, position: number): Promise<number> {
    return this.#run(async () => {
      await this.#seek(position);
      let got = 0;
      while (got < buffer.length) {
        const n = await this.file.read(buffer.subarray(got));
        if (n === null) break;
        got += n;
        this.#pos += n;
      }
      return got;
    });
  }

  writeAt(data: Uint8Array, position: number): Promise<void> {
    return this.#run(async () => {
      await this.#seek(position);
      let off = 0;
      while (off < data.length) {
        const n = await this.file.write(data.subarray(off));
        off += n;
        this.#pos += n;
      }
    });
  }

  sync(): Promise<void> {
    return this.#run(() => this.file.syncData());
  }

  truncate(length: number): Promise<void> {
    return this.#run(() => this.file.truncate(length));
  }

  size(): Promise<number> {
    return this.#run(async () => (await this.file.stat()).size);
  }

  close(): Promise<void> {
    const done = this.#queue.then(() => {
      if (this.#closed) return;
      this.#closed = true;
      this.file.close();
    });
    this.#queue = done.catch(() => {});
    return done;
  }
}

async function ignoreNotFound<T>(op: () => Promise<T>, otherwise: T): Promise<T> {
  try {
    return await op();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return otherwise;
    throw error;
  }
}

const fs: FsApi = {
  async open(path, options) {
    const file = await Deno.open(path, {
      read: options.read ?? false,
      write: options.write ?? false,
      create: options.create ?? false,
      createNew: options.createNew ?? false,
      truncate: options.truncate ?? false,
      mode: options.mode ?? 0o600,
    });
    return new DenoFileHandle(file);
  },
  async rename(from, to) {
    await Deno.rename(from, to);
  },
  remove(path, options) {
    return ignoreNotFound(async () => {
      await Deno.remove(path, { recursive: options?.recursive ?? false });
      return true;
    }, false);
  },
  readDir(path) {
    return ignoreNotFound(async () => {
      const names: string[] = [];
      for await (const entry of Deno.readDir(path)) names.push(entry.name);
      return names;
    }, null);
  },
  stat(path) {
    return ignoreNotFound(async (): Promise<FileInfo> => {
      const info = await Deno.stat(path);
      return {
        size: info.size,
        isFile: info.isFile,
        isDirectory: info.isDirectory,
        mtime: info.mtime?.getTime() ?? 0,
      };
    }, null);
  },
  async syncDir(path) {
    try {
      const dir = await Deno.open(path, { read: true });
      try {
        await dir.sync();
      } finally {
        dir.close();
      }
    } catch {
      // directory fsync is best-effort
    }
  },
  readStream(path, chunkSize = 64 * 1024) {
    let file: Deno.FsFile | undefined;
    const close = () => {
      file?.close();
      file = undefined;
    };
    return new ReadableStream<Uint8Array>({
      async start() {
        file = await Deno.open(path, { read: true });
      },
      async pull(controller) {
        const buffer = new Uint8Array(chunkSize);
        try {
          const n = await file!.read(buffer);
          if (n === null) {
            close();
            controller.close();
          } else controller.enqueue(n === chunkSize ? buffer : buffer.slice(0, n));
        } catch (error) {
          close();
          throw error;
        }
      },
      cancel() {
        close();
      },
    }, { highWaterMark: 0 });
  },
  async readFile(path) {
    try {
      return await Deno.readFile(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    }
  },
  async writeFileAtomic(path, data, mode) {
    const tmp = `${path}.tmp-${crypto.randomUUID()}`;
    const file = await Deno.open(tmp, { write: true, createNew: true, mode });
    try {
      let off = 0;
      while (off < data.length) off += await file.write(data.subarray(off));
      await file.syncData();
    } finally {
      file.close();
    }
    try {
      await Deno.chmod(tmp, mode);
      await Deno.rename(tmp, path);
    } catch (error) {
      await Deno.remove(tmp).catch(() => {});
      throw error;
    }
    await fs.syncDir(dirname(path));
  },
  async mkdir(path, mode) {
    await Deno.mkdir(path, { recursive: true, mode });
  },
  async fileMode(path) {
    try {
      return (await Deno.stat(path)).mode! & 0o777;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    }
  },
  join(...parts) {
    return parts.filter((p) => p !== "").join("/").replace(/\/+/g, "/");
  },
  resolve(path) {
    return path.startsWith("/") ? path : `${Deno.cwd()}/${path}`.replace(/\/\.?\//g, "/");
  },
};

const process: ProcessApi = {
  env: (name) => Deno.env.get(name),
  interfaces(): InterfaceAddress[] {
    try {
      return Deno.networkInterfaces().map((i) => ({
        name: i.name,
        address: i.address,
        family: i.family,
        internal: i.address === "127.0.0.1" || i.address === "::1" ||
          i.name === "lo",
        netmask: i.netmask,
      }));
    } catch {
      return [];
    }
  },
  onShutdownSignal(handler) {
    const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
    const listeners = signals.map((s) => {
      const fn = () => handler(s);
      Deno.addSignalListener(s, fn);
      return [s, fn] as const;
    });
    return () => {
      for (const [s, fn] of listeners) Deno.removeSignalListener(s, fn);
    };
  },
  stdout(text) {
    Deno.stdout.writeSync(new TextEncoder().encode(text));
  },
  stderr(text) {
    Deno.stderr.writeSync(new TextEncoder().encode(text));
  },
  stdin: () => Deno.stdin.readable,
  async writeStdout(data) {
    for (let off = 0; off < data.length;) off += await Deno.stdout.write(data.subarray(off));
  },
  isTerminal: (stream) => (stream === "stdout" ? Deno.stdout : Deno.stderr).isTerminal(),
  exit(code) {
    Deno.exit(code);
  },
  get args() {
    return Deno.args;
  },
  memory() {
    try {
      return { rss: Deno.memoryUsage().rss };
    } catch {
      return { rss: 0 };
    }
  },
  execPath: () => Deno.execPath(),
  async run(command, args, options) {
    const child = new Deno.Command(command, { args: [...args], stdin: "null", stdout: "piped", stderr: "null" })
      .spawn();
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
    }, options.timeoutMs);
    try {
      const out = await child.output();
      return { code: out.signal ? null : out.code, stdout: new TextDecoder().decode(out.stdout.subarray(0, 65536)) };
    } finally {
      clearTimeout(timer);
    }
  },
  spawn(command, args, options) {
    let child: Deno.ChildProcess | undefined;
    try {
      child = new Deno.Command(command, {
        args: [...args],
        env: options?.env,
        stdin: "null",
        stdout: "null",
        stderr: "null",
        detached: true,
      }).spawn();
    } catch {
      return { exited: Promise.resolve(null), kill() {} };
    }
    const pid = child.pid;
    return {
      exited: child.status.then((s) => s.signal ? null : s.code),
      kill() {
        try {
          Deno.kill(-pid, "SIGKILL");
        } catch { /* gone */ }
      },
    };
  },
};

function hasQuic(): boolean {
  return typeof (Deno as { QuicEndpoint?: unknown }).QuicEndpoint ===
    "function";
}

/** Build the Deno platform (call only under Deno). */
export function createDenoPlatform(): Platform {
  return {
    runtime: "deno",
    runtimeVersion: `deno ${Deno.version.deno}`,
    target: `${Deno.build.os}-${Deno.build.arch}`,
    tcp,
    quic: hasQuic() ? quic : undefined,
    udp: hasUdp() ? udp : undefined,
    http,
    fs,
    process,
    permissionDenied(error) {
      if (
        error instanceof Deno.errors.NotCapable ||
        error instanceof Deno.errors.PermissionDenied
      ) {
        return `permission denied: ${(error as Error).message}`;
      }
      return null;
    },
  };
}

/**
 * What the core needs from the runtime. `src/platform/deno.ts` and
 * `src/platform/node.ts` (the Node single executables) provide it; nothing
 * else in `src/` touches `Deno.*` or `node:` sockets, files or environment
 * directly.
 *
 * @module
 */

/** A socket address. */
export interface SocketAddress {
  /** IP address (or name, where the API resolves one). */
  hostname: string;
  /** Port. */
  port: number;
}

/** A connected TCP socket. */
export interface TcpSocket {
  readonly localAddr: SocketAddress;
  readonly remoteAddr: SocketAddress;
  /** Read into `buffer`; resolves with the byte count, or `null` at EOF. */
  read(buffer: Uint8Array): Promise<number | null>;
  /** Write all of `data`. */
  write(data: Uint8Array): Promise<void>;
  /** Half-close (send FIN). */
  closeWrite(): Promise<void>;
  /** Close both directions; idempotent. */
  close(): void;
}

/** A listening TCP socket. */
export interface TcpListener {
  readonly addr: SocketAddress;
  /** Next connection; rejects once closed. */
  accept(): Promise<TcpSocket>;
  close(): void;
}

/** TCP sockets. */
export interface TcpApi {
  /** Bind and listen; rejects if the address is unavailable (Node binds asynchronously). */
  listen(addr: SocketAddress): Promise<TcpListener>;
  connect(addr: SocketAddress): Promise<TcpSocket>;
}

/** The subset of a QUIC stream we use (mirrors Deno's `QuicBidirectionalStream`). */
export interface QuicBidiStream {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
}

/** Why a QUIC connection closed. */
export interface QuicCloseInfo {
  closeCode: number;
  reason: string;
}

/** A QUIC connection (mirrors Deno's `QuicConn`). */
export interface QuicConnection {
  readonly remoteAddr: SocketAddress;
  readonly closed: Promise<QuicCloseInfo>;
  readonly incomingBidirectionalStreams: ReadableStream<QuicBidiStream>;
  createBidirectionalStream(
    options?: { waitUntilAvailable?: boolean },
  ): Promise<QuicBidiStream>;
  close(info?: QuicCloseInfo): void;
}

/** Transport tunables shared by QUIC listen and connect. */
export interface QuicTransportOptions {
  keepAliveInterval?: number;
  maxIdleTimeout?: number;
  maxConcurrentBidirectionalStreams?: number;
  maxConcurrentUnidirectionalStreams?: number;
}

/** A QUIC endpoint: one UDP socket that listens and dials. */
export interface QuicEndpoint {
  readonly addr: SocketAddress;
  /** Start accepting; `onConnection` receives each completed handshake. */
  listen(
    options: QuicTransportOptions & {
      alpnProtocols: string[];
      cert: string;
      key: string;
    },
    onConnection: (conn: Promise<QuicConnection>) => void,
  ): void;
  /** Dial from this endpoint. */
  connect(
    options: QuicTransportOptions & {
      hostname: string;
      port: number;
      serverName: string;
      alpnProtocols: string[];
      caCerts: string[];
    },
  ): Promise<QuicConnection>;
  close(): void;
}

/** QUIC, where the runtime has it. */
export interface QuicApi {
  createEndpoint(addr: SocketAddress): QuicEndpoint;
}

/** A plain HTTP server for health and status. */
export interface HttpServer {
  /** Where it listens (the port chosen when 0 was asked). */
  readonly addr: SocketAddress;
  /** Stop serving and close open connections. */
  close(): Promise<void>;
}

/**
 * The part of the W3C `WebSocket` the links use. The browser's and Deno's
 * `WebSocket` satisfy it, and so does what `HttpApi.upgradeWebSocket` returns
 * (Node: an adapter over npm `ws`). `readyState`: 0 connecting, 1 open,
 * 2 closing, 3 closed. Binary messages arrive as `ArrayBuffer` once
 * `binaryType` is `"arraybuffer"`; text messages as strings.
 */
export interface WebSocketLike {
  /** How binary messages arrive; the links set `"arraybuffer"`. */
  binaryType: "arraybuffer" | "blob";
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** Bytes queued by `send` and not yet handed to the network. */
  readonly bufferedAmount: number;
  /** Queue one message. */
  send(data: string | ArrayBuffer | ArrayBufferView<ArrayBuffer>): void;
  /** Start the closing handshake; idempotent. */
  close(code?: number, reason?: string): void;
  /** Called once the socket is open. */
  onopen: ((event: Event) => unknown) | null;
  /** Called with each message (`event.data`: `ArrayBuffer` or string). */
  onmessage: ((event: MessageEvent) => unknown) | null;
  /** Called once the socket is closed. */
  onclose: ((event: CloseEvent) => unknown) | null;
  /** Called when the socket fails (a close follows). */
  onerror: ((event: Event) => unknown) | null;
}

/** What `HttpApi.upgradeWebSocket` returns. */
export interface WebSocketUpgrade {
  /** The server side of the WebSocket (open once `response` is sent). */
  socket: WebSocketLike;
  /** What the handler must return to complete the upgrade. */
  response: Response;
}

/** What an HTTP handler learns besides the request. */
export interface RequestInfo {
  /** The client's address. */
  remoteAddr: SocketAddress;
}

/** HTTP serving with web-standard `Request`/`Response`. */
export interface HttpApi {
  /** Serve `handler`; it learns the client's address through `info`. */
  serve(
    addr: SocketAddress,
    handler: (request: Request, info?: RequestInfo) => Response | Promise<Response>,
  ): Promise<HttpServer>;
  /**
   * Turn a WebSocket upgrade `request` received by a `serve` handler into
   * a WebSocket; the handler returns the `response`. Throws `TypeError`
   * when `request` is not a WebSocket upgrade (check `isWebSocketUpgrade`
   * first). Absent where the runtime cannot upgrade.
   */
  upgradeWebSocket?(request: Request): WebSocketUpgrade;
}

/** Does `request` ask for a WebSocket upgrade (GET with `Upgrade: websocket`)? */
export function isWebSocketUpgrade(request: Request): boolean {
  return request.method === "GET" && (request.headers.get("upgrade") ?? "").toLowerCase() === "websocket";
}

/** How `FsApi.open` opens a file. */
export interface OpenOptions {
  /** Open for reading. */
  read?: boolean;
  /** Open for writing (positional writes; never appends). */
  write?: boolean;
  /** Create the file if it does not exist (needs `write`). */
  create?: boolean;
  /** Fail if the file exists (needs `write`; implies `create`). */
  createNew?: boolean;
  /** Truncate to 0 bytes on open (needs `write`). */
  truncate?: boolean;
  /** Permission bits of a created file (default `0o600`). */
  mode?: number;
}

/** An open file with positional (pread/pwrite-style) access. */
export interface FileHandle {
  /**
   * Read into `buffer` from byte `position` until it is full or the file
   * ends; resolves with the byte count (short only at the end of the file).
   */
  readAt(buffer: Uint8Array, position: number): Promise<number>;
  /** Write all of `data` at byte `position` (the file grows as needed; holes stay sparse). */
  writeAt(data: Uint8Array, position: number): Promise<void>;
  /** Make written data durable (fdatasync). */
  sync(): Promise<void>;
  /** Set the length (growing makes a sparse hole). */
  truncate(length: number): Promise<void>;
  /** Current length, bytes. */
  size(): Promise<number>;
  /** Close; idempotent. */
  close(): Promise<void>;
}

/** What `FsApi.stat` tells. */
export interface FileInfo {
  /** Length, bytes. */
  size: number;
  /** Whether it is a regular file. */
  isFile: boolean;
  /** Whether it is a directory. */
  isDirectory: boolean;
  /** Last modification, ms since the epoch (0 where unknown). */
  mtime: number;
}

/** Files, for the data directory. */
export interface FsApi {
  /** Read a file; `null` if it does not exist. */
  readFile(path: string): Promise<Uint8Array | null>;
  /** Write atomically: temp file with `mode`, fsync, rename over `path`. */
  writeFileAtomic(path: string, data: Uint8Array, mode: number): Promise<void>;
  /** Create a directory and parents with `mode` (no error if it exists). */
  mkdir(path: string, mode: number): Promise<void>;
  /** Permission bits of a file, or `null` if it does not exist. */
  fileMode(path: string): Promise<number | null>;
  /** Open a file (see `OpenOptions`); rejects with the runtime's error (e.g. not found). */
  open(path: string, options: OpenOptions): Promise<FileHandle>;
  /** Rename `from` to `to`, replacing `to` (atomic on one file system). */
  rename(from: string, to: string): Promise<void>;
  /** Remove a file or empty directory (`recursive`: a whole tree); `false` if it did not exist. */
  remove(path: string, options?: { recursive?: boolean }): Promise<boolean>;
  /** Names of the entries of a directory; `null` if it does not exist. */
  readDir(path: string): Promise<string[] | null>;
  /** Facts about a path (following links), or `null` if it does not exist. */
  stat(path: string): Promise<FileInfo | null>;
  /** Make a directory's entries (renames, creations, removals) durable; best-effort. */
  syncDir(path: string): Promise<void>;
  /**
   * The bytes of a file as a stream of chunks of at most `chunkSize` bytes
   * (default 64 KiB), read as the consumer pulls; cancelling closes the file.
   */
  readStream(path: string, chunkSize?: number): ReadableStream<Uint8Array>;
  /** Join path segments. */
  join(...parts: string[]): string;
  /** Make a path absolute against the working directory. */
  resolve(path: string): string;
}

/** A network interface address. */
export interface InterfaceAddress {
  /** Interface name (`eth0`). */
  name: string;
  /** The address. */
  address: string;
  /** Address family. */
  family: "IPv4" | "IPv6";
  /** Whether it is a loopback address. */
  internal: boolean;
  /** The netmask (e.g. `255.255.255.0`), where the runtime reports it. */
  netmask?: string;
}

/** One received UDP datagram. */
export interface Datagram {
  data: Uint8Array;
  from: SocketAddress;
}

/** Options of `UdpApi.bind`. */
export interface UdpBindOptions {
  hostname: string;
  port: number;
  /** Let several sockets (and processes) share the address: needed for multicast receivers. */
  reuseAddress?: boolean;
  /** Deliver multicast this socket sends to receivers on the same host too. */
  loopback?: boolean;
}

/**
 * A bound UDP socket. Outgoing multicast leaves through the interface that
 * owns the bound address (on Linux), so bind one socket per interface
 * address to choose where announcements go.
 */
export interface UdpSocket {
  readonly addr: SocketAddress;
  /** The next datagram; rejects once the socket is closed. */
  receive(): Promise<Datagram>;
  /** Send one datagram. */
  send(data: Uint8Array, to: SocketAddress): Promise<void>;
  /** Join the IPv4 multicast `group` on the interface whose address is `iface`. */
  joinMulticastV4(group: string, iface: string): Promise<void>;
  /** Leave a group joined with `joinMulticastV4`. */
  leaveMulticastV4(group: string, iface: string): Promise<void>;
  /** Close; idempotent. */
  close(): void;
}

/** Options of `UdpApi.preopen`. */
export interface UdpPreopenOptions {
  /** Local address to bind (e.g. `0.0.0.0`). */
  hostname: string;
  /** Local port; 0 picks a free one. */
  port: number;
  /** Where to send one datagram each (may be empty: then it only finds a free port). */
  to: SocketAddress[];
  /** IP TTL of those datagrams: small, so they open our NAT mapping but die before the peer's NAT. */
  ttl: number;
}

/** UDP sockets (unicast and IPv4 multicast), where the runtime has them. */
export interface UdpApi {
  bind(options: UdpBindOptions): Promise<UdpSocket>;
  /**
   * NAT pre-opening for hole punching: bind `hostname:port`, send one small
   * datagram with TTL `ttl` to each of `to`, close, and resolve with the
   * bound port (free again for a QUIC endpoint). Rejects if the port is taken.
   */
  preopen(options: UdpPreopenOptions): Promise<number>;
}

/** Process-level facilities. */
export interface ProcessApi {
  /** Read an environment variable (only the documented ones are permitted). */
  env(name: string): string | undefined;
  /** Network interface addresses; empty if not permitted. */
  interfaces(): InterfaceAddress[];
  /** Run `handler` on SIGINT/SIGTERM; returns an unsubscribe function. */
  onShutdownSignal(handler: (signal: string) => void): () => void;
  /** Write text to stdout. */
  stdout(text: string): void;
  /** Write text to stderr. */
  stderr(text: string): void;
  /** Standard input as a byte stream (the CLI's `-` file). */
  stdin(): ReadableStream<Uint8Array>;
  /** Write bytes to stdout; resolves once written (binary output of the CLI). */
  writeStdout(data: Uint8Array): Promise<void>;
  /** Whether stdout / stderr is a terminal (progress bars only there). */
  isTerminal(stream: "stdout" | "stderr"): boolean;
  /** Exit the process with `code`. */
  exit(code: number): never;
  /** Command-line arguments after the program name. */
  readonly args: string[];
  /** The process's memory: resident set size in bytes (0 where unknown). */
  memory(): { rss: number };
  /**
   * Path of the running executable (the single binary, or the runtime
   * when run from source); absent where unknown.
   */
  execPath?(): string;
  /**
   * Run `command` with `args` to completion (stdin closed, output captured,
   * killed after `timeoutMs`): its exit code (`null` if it was killed or
   * could not start) and the first 64 KiB of stdout. Absent where the
   * runtime cannot (Deno without `--allow-run` rejects with its permission error).
   */
  run?(command: string, args: readonly string[], options: { timeoutMs: number }): Promise<RunResult>;
  /**
   * Start `command` in its own process group (stdin closed, output
   * discarded; `env` added to this process's environment) and leave it
   * running: the self-update health check starts a candidate node this way.
   * Absent where the runtime cannot.
   */
  spawn?(command: string, args: readonly string[], options?: { env?: Record<string, string> }): SpawnedProcess;
}

/** A process started by `ProcessApi.spawn`. */
export interface SpawnedProcess {
  /** Resolves with its exit code (`null` if killed by a signal or it could not start). */
  readonly exited: Promise<number | null>;
  /** SIGKILL its whole process group (no error if already gone). */
  kill(): void;
}

/** What `ProcessApi.run` reports. */
export interface RunResult {
  /** Exit code; `null` when killed (timeout) or not started. */
  code: number | null;
  /** Start of stdout, as text. */
  stdout: string;
}

/** Everything runtime-specific, in one object. */
export interface Platform {
  readonly runtime: "deno" | "node" | "browser";
  /** Runtime version string, e.g. `"deno 2.9.6"`. */
  readonly runtimeVersion: string;
  /** `os-arch`, e.g. `linux-x86_64`. */
  readonly target: string;
  readonly tcp: TcpApi;
  /** Absent where the runtime has no QUIC. */
  readonly quic?: QuicApi;
  /** UDP datagrams and multicast (clustering). Absent where unavailable (Deno without `--unstable-net`). */
  readonly udp?: UdpApi;
  readonly http: HttpApi;
  readonly fs: FsApi;
  readonly process: ProcessApi;
  /** Is `error` a denied permission? Returns a one-line description if so. */
  permissionDenied(error: unknown): string | null;
}

/**
 * In-memory link for tests and simulations: sessions and streams between
 * nodes of one process, with the same flow-control semantics as the real
 * links (bounded windows, half-close, reset). Identity is taken from the
 * registering node, so no handshake runs. A link can be given a latency per
 * direction (`MemoryNetwork.setLinkLatency`): stream opens, data and FINs
 * then arrive that much later, in order; resets, closes and flow-control
 * credit stay immediate.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import { AbortedError, deferred } from "../util/async.ts";
import { formatAddress, type PeerAddress } from "./address.ts";
import type { Connection } from "./connection.ts";
import { ConnectionSet } from "./connection-set.ts";
import { ConnectionClosedError, DialError, PeerIdMismatchError } from "./errors.ts";
import type { CloseInfo, Direction, Session } from "./session.ts";
import { Outbox } from "./memory-delay.ts";
import { type ByteStream, ChunkQueue, StreamClosedError, StreamResetError } from "./stream.ts";
import type { DialOptions, Transport, TransportContext } from "./transport.ts";

/** Default per-stream window of in-memory streams: 256 KiB. */
export const MEMORY_WINDOW = 256 * 1024;

class MemoryStream implements ByteStream {
  peer!: MemoryStream;
  readonly #queue: ChunkQueue;
  readonly #outbox: Outbox;
  #credit: number;
  #creditWaiter: ReturnType<typeof deferred<void>> | null = null;
  #writeClosed = false;
  #writeTail: Promise<void> = Promise.resolve();
  #remoteEnded = false;
  #resetError: StreamResetError | null = null;
  readonly #closed = deferred<void>();
  #done = false;

  /** `delay`: the current latency towards the peer, ms. */
  constructor(window: number, delay: () => number = () => 0) {
    this.#credit = window;
    this.#queue = new ChunkQueue((n) => this.peer.#grant(n));
    this.#outbox = new Outbox(delay);
  }

  get closed(): Promise<void> {
    return this.#closed.promise;
  }

  #grant(n: number): void {
    this.#credit += n;
    if (this.#creditWaiter && this.#credit > 0) {
      const w = this.#creditWaiter;
      this.#creditWaiter = null;
      w.resolve();
    }
  }

  #finishIfDone(): void {
    if (!this.#done && this.#writeClosed && this.#remoteEnded) {
      this.#done = true;
      this.#closed.resolve();
    }
  }

  read(): Promise<Uint8Array | null> {
    return this.#queue.read();
  }

  write(chunk: Uint8Array): Promise<void> {
    if (this.#resetError) return Promise.reject(this.#resetError);
    if (this.#writeClosed) return Promise.reject(new StreamClosedError());
    // Writes complete in call order: each waits for the one before it.
    const result = this.#writeTail.then(() => this.#send(chunk));
    this.#writeTail = result.catch(() => {});
    return result;
  }

  async #send(chunk: Uint8Array): Promise<void> {
    while (true) {
      if (this.#resetError) throw this.#resetError;
      if (this.#credit > 0) break;
      this.#creditWaiter = deferred();
      await this.#creditWaiter.promise;
    }
    if (chunk.length === 0) return;
    this.#credit -= chunk.length;
    const peer = this.peer;
    this.#outbox.send(() => peer.#queue.push(chunk));
  }

  closeWrite(): Promise<void> {
    if (this.#resetError) return Promise.reject(this.#resetError);
    if (this.#writeClosed) return Promise.resolve();
    this.#writeClosed = true;
    // The FIN follows every write issued before closeWrite() (which may
    // still wait for credit); like a socket, closing does not wait for it.
    this.#writeTail.then(() => {
      if (this.#resetError) return;
      this.#outbox.send(() => {
        if (this.#resetError) return;
        this.peer.#remoteEnded = true;
        this.peer.#queue.end();
        this.#finishIfDone();
        this.peer.#finishIfDone();
      });
    });
    return Promise.resolve();
  }

  reset(reason = "stream was reset"): void {
    this.#abort(new StreamResetError(reason));
    this.peer.#abort(new StreamResetError(`stream was reset by peer: ${reason}`));
  }

  /** @internal */
  abortLocal(reason: string): void {
    this.#abort(new StreamResetError(reason));
  }

  #abort(error: StreamResetError): void {
    this.#outbox.drop();
    if (this.#done) return;
    this.#resetError = error;
    this.#queue.fail(error);
    this.#creditWaiter?.resolve();
    this.#creditWaiter = null;
    this.#done = true;
    this.#closed.resolve();
  }
}

/**
 * Create a connected pair of in-memory streams; `delays` are the latencies
 * a → b and b → a, ms (read on every send, default 0).
 */
export function memoryStreamPair(
  window = MEMORY_WINDOW,
  delays: [() => number, () => number] = [() => 0, () => 0],
): [ByteStream, ByteStream] {
  const a = new MemoryStream(window, delays[0]);
  const b = new MemoryStream(window, delays[1]);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

class MemorySession implements Session {
  readonly kind = "memory";
  readonly route = "direct";
  peer!: MemorySession;
  #handler: ((s: ByteStream) => void) | null = null;
  #pending: ByteStream[] = [];
  #streams = new Set<MemoryStream>();
  #closed = deferred<CloseInfo>();
  #isClosed = false;
  readonly #opens: Outbox;

  constructor(
    readonly localId: NodeId,
    readonly remoteId: NodeId,
    readonly direction: Direction,
    readonly remoteAddress: string,
    readonly window: number,
    /** The current latency towards the peer, ms. */
    readonly delay: () => number = () => 0,
  ) {
    this.#opens = new Outbox(delay);
  }

  get closed(): Promise<CloseInfo> {
    return this.#closed.promise;
  }

  openStream(): Promise<ByteStream> {
    if (this.#isClosed) return Promise.reject(new ConnectionClosedError());
    const [local, remote] = memoryStreamPair(this.window, [this.delay, this.peer.delay]) as [
      MemoryStream,
      MemoryStream,
    ];
    this.#track(local);
    this.peer.#track(remote);
    const peer = this.peer;
    this.#opens.send(() => peer.#deliver(remote));
    return Promise.resolve(local);
  }

  #track(stream: MemoryStream): void {
    this.#streams.add(stream);
    stream.closed.then(() => this.#streams.delete(stream));
  }

  #deliver(stream: ByteStream): void {
    if (this.#handler) queueMicrotask(() => this.#handler!(stream));
    else this.#pending.push(stream);
  }

  onStream(handler: (s: ByteStream) => void): void {
    this.#handler = handler;
    for (const s of this.#pending.splice(0)) queueMicrotask(() => handler(s));
  }

  close(reason = "closed", error?: Error): void {
    this.#end({ reason, local: true, error });
    this.peer.#end({ reason: `closed by peer: ${reason}`, local: false });
  }

  #end(info: CloseInfo): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#opens.drop();
    for (const s of this.#streams) s.abortLocal("connection closed");
    this.#streams.clear();
    this.#closed.resolve(info);
  }
}

interface Listener {
  id: NodeId;
  accept(session: Session): void;
}

/**
 * A process-local network of named listeners.
 *
 * @example
 * ```ts
 * import { MemoryNetwork } from "./memory.ts";
 * const network = new MemoryNetwork();
 * // give each node a MemoryTransport on this network, addressed memory://<name>
 * ```
 */
export class MemoryNetwork {
  #listeners = new Map<string, Listener>();
  #linkLatency = new Map<string, number>();
  /** Per-stream window for new streams. */
  readonly window: number;

  /** Simulated connection setup time, ms (0 = synchronous). */
  readonly latency: number;

  /** A network; `window` is the per-stream buffer, `latency` a delay before each connect, ms. */
  constructor(options: { window?: number; latency?: number } = {}) {
    this.window = options.window ?? MEMORY_WINDOW;
    this.latency = options.latency ?? 0;
  }

  /**
   * Delay everything `from` sends to `to` (two listener names) by `ms`:
   * stream opens, data and FINs, on existing and new connections. One
   * direction; 0 removes it. The round trip between them is the sum of both
   * directions.
   *
   * @example
   * ```ts
   * import { MemoryNetwork } from "./memory.ts";
   * const network = new MemoryNetwork();
   * network.setLinkLatency("caller", "far", 25);
   * network.setLinkLatency("far", "caller", 25); // a 50 ms round trip
   * ```
   */
  setLinkLatency(from: string, to: string, ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`link latency must be >= 0 ms, got ${ms}`);
    if (ms === 0) this.#linkLatency.delete(`${from}\u0000${to}`);
    else this.#linkLatency.set(`${from}\u0000${to}`, ms);
  }

  /** The latency from `from` to `to`, ms (0 unless set). */
  linkLatency(from: string, to: string): number {
    return this.#linkLatency.get(`${from}\u0000${to}`) ?? 0;
  }

  /** Register a listener; returns a function that unregisters it. */
  listen(name: string, id: NodeId, accept: (session: Session) => void): () => void {
    if (this.#listeners.has(name)) throw new DialError(`memory address ${name} is already in use`);
    this.#listeners.set(name, { id, accept });
    return () => this.#listeners.delete(name);
  }

  /** Open a session to `name`, expecting `expected` there. */
  connect(name: string, localId: NodeId, localName: string, expected: NodeId): Session {
    const listener = this.#listeners.get(name);
    if (!listener) throw new DialError(`nothing listens on memory://${name}`);
    if (!listener.id.equals(expected)) {
      throw new PeerIdMismatchError(`memory://${name} is ${listener.id.did}, not the expected ${expected.did}`);
    }
    const outbound = new MemorySession(
      localId,
      listener.id,
      "outbound",
      name,
      this.window,
      () => this.linkLatency(localName, name),
    );
    const inbound = new MemorySession(
      listener.id,
      localId,
      "inbound",
      localName,
      this.window,
      () => this.linkLatency(name, localName),
    );
    outbound.peer = inbound;
    inbound.peer = outbound;
    listener.accept(inbound);
    return outbound;
  }

  /** `connect`, after the network's simulated `latency`. */
  async connectAfterLatency(name: string, localId: NodeId, localName: string, expected: NodeId): Promise<Session> {
    if (this.latency > 0) await new Promise((r) => setTimeout(r, this.latency));
    return this.connect(name, localId, localName, expected);
  }
}

/**
 * A `Transport` over a `MemoryNetwork`, listening as `memory://<name>`.
 *
 * @example
 * ```ts
 * import { MemoryNetwork, MemoryTransport } from "./memory.ts";
 * import { Node } from "../../mod.ts";
 * const network = new MemoryNetwork();
 * await using node = await Node.start({ dataDir: ".macula", transports: [new MemoryTransport(network, "n1")] });
 * ```
 */
export class MemoryTransport implements Transport {
  readonly kind = "memory";
  #network: MemoryNetwork;
  #ctx: TransportContext | null = null;
  #name: string;
  #unlisten: (() => void) | null = null;
  #connections: ConnectionSet | null = null;

  /** A transport on `network`, listening under `name` once started. */
  constructor(network: MemoryNetwork, name: string) {
    this.#network = network;
    this.#name = name;
  }

  get listenAddresses(): PeerAddress[] {
    return this.#unlisten ? [{ type: "direct", kind: "memory", host: this.#name, port: 0 }] : [];
  }

  canDial(address: PeerAddress): boolean {
    return address.type === "direct" && address.kind === "memory";
  }

  start(ctx: TransportContext): Promise<void> {
    if (this.#ctx && this.#ctx !== ctx) {
      return Promise.reject(new Error("memory transport already started by another node"));
    }
    try {
      this.#unlisten ??= this.#network.listen(
        this.#name,
        ctx.localId,
        (session) => this.#ctx?.onInbound(this.#connections!.wrap(session)),
      );
    } catch (error) {
      return Promise.reject(error);
    }
    this.#ctx = ctx;
    this.#connections ??= new ConnectionSet(ctx);
    return Promise.resolve();
  }

  async dial(address: PeerAddress, expected: NodeId, options: DialOptions = {}): Promise<Connection> {
    if (address.type !== "direct" || address.kind !== "memory") {
      throw new DialError(`the memory transport cannot dial ${formatAddress(address)}`);
    }
    if (!this.#ctx || !this.#connections) throw new DialError("memory transport is not started");
    if (options.signal?.aborted) throw new AbortedError("dial was cancelled");
    const session = await this.#network.connectAfterLatency(address.host, this.#ctx.localId, this.#name, expected);
    return this.#connections.wrap(session);
  }

  close(): Promise<void> {
    this.#unlisten?.();
    this.#unlisten = null;
    this.#connections?.closeAll("transport closed");
    return Promise.resolve();
  }
}

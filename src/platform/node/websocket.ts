/**
 * WebSocket upgrades for the Node platform's HTTP server, on npm `ws`
 * (`noServer`): the server's `upgrade` event turns into a web `Request` for
 * the handler, and `upgradeWebSocket` completes the upgrade on the raw
 * socket and returns a `WebSocketLike` adapter over the `ws` socket.
 *
 * @module
 */
import type http from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "npm:ws@8.23.1";
import type { WebSocketLike, WebSocketUpgrade } from "../types.ts";

/** The part of a `ws` socket the adapter uses. */
interface WsSocket {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: unknown, options?: { binary?: boolean }): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  on(event: string, listener: (...args: unknown[]) => void): void;
}

/** A `ws` socket seen as a W3C-style `WebSocketLike`. */
class NodeWebSocket implements WebSocketLike {
  readonly #ws: WsSocket;
  onopen: ((event: Event) => unknown) | null = null;
  onmessage: ((event: MessageEvent) => unknown) | null = null;
  onclose: ((event: CloseEvent) => unknown) | null = null;
  onerror: ((event: Event) => unknown) | null = null;

  constructor(ws: WsSocket) {
    this.#ws = ws;
    ws.binaryType = "arraybuffer";
    ws.on("message", (data, isBinary) => {
      const payload = isBinary ? data : new TextDecoder().decode(data as ArrayBuffer);
      this.onmessage?.({ type: "message", data: payload } as MessageEvent);
    });
    ws.on("close", (code, reason) => {
      this.onclose?.({ type: "close", code, reason: String(reason ?? ""), wasClean: true } as CloseEvent);
    });
    ws.on("error", () => this.onerror?.({ type: "error" } as Event));
  }

  get binaryType(): "arraybuffer" | "blob" {
    return "arraybuffer";
  }

  set binaryType(_type: "arraybuffer" | "blob") {
    // always ArrayBuffer: the links need nothing else
  }

  get readyState(): number {
    return this.#ws.readyState;
  }

  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  send(data: string | ArrayBuffer | ArrayBufferView<ArrayBuffer>): void {
    this.#ws.send(data, { binary: typeof data !== "string" });
  }

  close(code?: number, reason?: string): void {
    try {
      this.#ws.close(code, reason);
    } catch {
      this.#ws.terminate(); // a code ws refuses to send
    }
  }
}

/** An upgrade request waiting for the handler's decision. */
interface PendingUpgrade {
  req: http.IncomingMessage;
  socket: Duplex;
  head: Buffer;
}

/**
 * The WebSocket side of one Node HTTP server: `pending` requests from its
 * `upgrade` event, `upgrade` completing one, `upgraded` telling a handler's
 * response apart, `close` ending every WebSocket.
 */
export class NodeUpgrades {
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  readonly #pending = new WeakMap<Request, PendingUpgrade>();
  readonly #responses = new WeakSet<Response>();

  /** Remember the raw parts of `request` (from an `upgrade` event). */
  hold(request: Request, pending: PendingUpgrade): void {
    this.#pending.set(request, pending);
  }

  /** Is `response` the one `upgrade` returned (nothing left to write)? */
  upgraded(response: Response): boolean {
    return this.#responses.has(response);
  }

  /** Complete the upgrade of `request`; `TypeError` if it did not come from the `upgrade` event or is invalid. */
  upgrade(request: Request): WebSocketUpgrade {
    const pending = this.#pending.get(request);
    if (!pending) throw new TypeError("not a WebSocket upgrade request of this server");
    this.#pending.delete(request);
    let socket: NodeWebSocket | undefined;
    this.#wss.handleUpgrade(pending.req, pending.socket, pending.head, (ws: WsSocket) => {
      socket = new NodeWebSocket(ws);
    });
    // ws completes a valid upgrade synchronously; an invalid one it answers with 400 itself.
    if (!socket) throw new TypeError("invalid WebSocket upgrade request");
    const response = new Response(null, { status: 200 });
    this.#responses.add(response);
    return { socket, response };
  }

  /** Close every WebSocket of the server. */
  close(): void {
    for (const ws of this.#wss.clients as Set<WsSocket>) ws.terminate();
    this.#wss.close();
  }
}

/** Write a handler's non-upgrade answer to an upgrade request's raw socket, then close it. */
export async function refuseUpgrade(socket: Duplex, response: Response): Promise<void> {
  const body = new Uint8Array(await response.arrayBuffer());
  const lines = [`HTTP/1.1 ${response.status} ${response.statusText || "Refused"}`];
  response.headers.forEach((value, name) => {
    if (name !== "content-length" && name !== "connection") lines.push(`${name}: ${value}`);
  });
  lines.push(`content-length: ${body.length}`, "connection: close", "", "");
  socket.write(lines.join("\r\n"));
  socket.end(body);
}

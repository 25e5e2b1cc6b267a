/**
 * A byte duplex over a WebSocket's binary messages, for the Noise channel
 * of the WebSocket link: each write is one binary message, each message
 * one read chunk. Writes resolve once the socket's `bufferedAmount` is under
 * a high-water mark (backpressure). Received messages wait in a bounded
 * queue. A text message, a message over the size cap or an overfull queue
 * closes the socket and fails the duplex with `WebSocketProtocolError`.
 *
 * @module
 */
import type { WebSocketLike } from "../platform/types.ts";
import type { RawDuplex } from "../secure/secure-channel.ts";
import { MaculaError } from "../util/errors.ts";
import { ConnectionClosedError } from "./errors.ts";

/** The peer broke the WebSocket link's rules (text frame, oversize message, flooding). */
export class WebSocketProtocolError extends MaculaError {
  /** `message` says which rule was broken. */
  constructor(message: string) {
    super("E_WS_PROTOCOL", message);
  }
}

/** Tunables of `webSocketDuplex`. */
export interface WebSocketDuplexOptions {
  /** A write resolves once `bufferedAmount` is at most this, bytes. Default 1 MiB. */
  highWaterMark?: number;
  /** Largest binary message accepted, bytes. Default 65 537 (one Noise message with its length). */
  maxMessage?: number;
  /** Received bytes waiting to be read before the link counts as flooded. Default 8 MiB. */
  maxQueued?: number;
  /** Told once when the peer breaks a rule (before the socket is closed). */
  onViolation?(error: WebSocketProtocolError): void;
}

/** A `RawDuplex` over a WebSocket, plus when it opened. */
export interface WebSocketDuplex extends RawDuplex {
  /** Resolves once the socket is open; rejects if it closes first. */
  readonly opened: Promise<void>;
}

const OPEN = 1;
const CLOSING = 2;
/** Default cap of one binary message: a Noise message (≤ 65 535 bytes) and its 2-byte length. */
export const DEFAULT_MAX_WS_MESSAGE = 65_537;

/**
 * Wrap `socket` (connecting or open) into a duplex. Closing the duplex
 * closes the socket.
 *
 * @example
 * ```ts
 * import { webSocketDuplex } from "./websocket-duplex.ts";
 * const ws = new WebSocket("ws://127.0.0.1:8080/macula/ws");
 * const pipe = webSocketDuplex(ws, { highWaterMark: 256 * 1024 });
 * await pipe.opened;
 * await pipe.write(new Uint8Array([1, 2, 3]));
 * pipe.close();
 * ```
 */
export function webSocketDuplex(socket: WebSocketLike, options: WebSocketDuplexOptions = {}): WebSocketDuplex {
  const highWaterMark = options.highWaterMark ?? 1024 * 1024;
  const maxMessage = options.maxMessage ?? DEFAULT_MAX_WS_MESSAGE;
  const maxQueued = options.maxQueued ?? 8 * 1024 * 1024;
  socket.binaryType = "arraybuffer";
  const queue: Uint8Array[] = [];
  let queued = 0;
  let waiter: { resolve(v: Uint8Array | null): void; reject(e: Error): void } | null = null;
  let ended = false;
  let failure: Error | null = null;
  let openResolve!: () => void;
  let openReject!: (e: Error) => void;
  const opened = new Promise<void>((resolve, reject) => {
    openResolve = resolve;
    openReject = reject;
  });
  opened.catch(() => {});
  if (socket.readyState === OPEN) openResolve();

  const finish = (error: Error | null) => {
    if (ended) return;
    ended = true;
    failure = error;
    openReject(error ?? new ConnectionClosedError("WebSocket closed before it opened"));
    if (waiter) {
      const w = waiter;
      waiter = null;
      if (error && queue.length === 0) w.reject(error);
      else w.resolve(queue.shift() ?? null);
    }
  };
  const violate = (message: string, code: number) => {
    if (ended) return;
    const error = new WebSocketProtocolError(message);
    queue.length = 0;
    finish(error);
    options.onViolation?.(error);
    try {
      socket.close(code, message.slice(0, 100));
    } catch {
      // already closing
    }
  };

  socket.onopen = () => openResolve();
  socket.onmessage = (event) => {
    if (ended) return;
    const data = event.data;
    if (!(data instanceof ArrayBuffer)) {
      violate(typeof data === "string" ? "text message on a binary link" : "non-binary message", 1003);
      return;
    }
    if (data.byteLength > maxMessage) {
      violate(`message of ${data.byteLength} bytes over the ${maxMessage}-byte cap`, 1009);
      return;
    }
    if (data.byteLength === 0) return;
    const chunk = new Uint8Array(data);
    if (waiter) {
      const w = waiter;
      waiter = null;
      w.resolve(chunk);
      return;
    }
    queued += chunk.length;
    if (queued > maxQueued) {
      violate(`more than ${maxQueued} received bytes left unread`, 1008);
      return;
    }
    queue.push(chunk);
  };
  socket.onclose = () => finish(null);
  socket.onerror = () => finish(new ConnectionClosedError("WebSocket failed"));

  const drained = async () => {
    for (let delay = 1; socket.bufferedAmount > highWaterMark; delay = Math.min(delay * 2, 20)) {
      if (ended || socket.readyState >= CLOSING) return;
      await new Promise((r) => setTimeout(r, delay));
    }
  };

  return {
    opened,
    read() {
      const chunk = queue.shift();
      if (chunk) {
        queued -= chunk.length;
        return Promise.resolve(chunk);
      }
      if (ended) return failure ? Promise.reject(failure) : Promise.resolve(null);
      if (waiter) return Promise.reject(new Error("concurrent read on a WebSocket duplex"));
      return new Promise((resolve, reject) => waiter = { resolve, reject });
    },
    async write(chunk) {
      await opened;
      if (ended || socket.readyState !== OPEN) throw failure ?? new ConnectionClosedError("WebSocket is closed");
      const whole = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength &&
        chunk.buffer instanceof ArrayBuffer;
      socket.send((whole ? chunk : chunk.slice()) as Uint8Array<ArrayBuffer>);
      if (socket.bufferedAmount > highWaterMark) await drained();
    },
    close() {
      finish(null);
      try {
        socket.close(1000);
      } catch {
        // already closing
      }
    },
  };
}

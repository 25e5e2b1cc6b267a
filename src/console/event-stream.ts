/**
 * `GET /console/events`: the Server-Sent Events stream of snapshots. One
 * shared tick for every client (the snapshot is built and serialized once
 * and the same bytes go to all), no timer at all without clients, at most
 * 16 clients, a client that goes away (or falls 8 snapshots behind) is
 * removed at once, and a `: ping` comment every 15 s.
 *
 * @module
 */
import type { ConsoleSnapshot } from "./protocol.ts";

/** Options of `ConsoleEventStream`. */
export interface EventStreamOptions {
  /** Builds the snapshot to send. */
  snapshot: () => ConsoleSnapshot;
  /** Between snapshots, ms (default 1000). */
  interval?: number;
  /** Between `: ping` comments, ms (default 15 000). */
  pingInterval?: number;
  /** Clients served at once (default 16); one more gets 503. */
  maxClients?: number;
  /** Called when a tick fails to build a snapshot (the tick is skipped). */
  onError?: (error: unknown) => void;
}

/** Snapshots a client may have queued before it is dropped as too slow. */
const MAX_BEHIND = 8;

const encoder = new TextEncoder();

/** One SSE message carrying `snapshot`. */
export function snapshotEvent(snapshot: ConsoleSnapshot): string {
  return `event: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`;
}

/**
 * The shared snapshot stream of one node.
 *
 * @example
 * ```ts
 * import { ConsoleEventStream } from "./event-stream.ts";
 * import { SnapshotBuilder } from "./snapshot.ts";
 * declare const node: import("../api/node.ts").Node;
 * const builder = new SnapshotBuilder(node);
 * const events = new ConsoleEventStream({ snapshot: () => builder.take() });
 * const response = events.response(new Request("http://127.0.0.1/console/events"));
 * response.headers.get("content-type"); // "text/event-stream; charset=utf-8"
 * events.close();
 * ```
 */
export class ConsoleEventStream {
  #o: Required<Omit<EventStreamOptions, "onError">> & Pick<EventStreamOptions, "onError">;
  #clients = new Set<ReadableStreamDefaultController<Uint8Array>>();
  #timer?: ReturnType<typeof setInterval>;
  #lastPing = 0;

  /** A stream of `options.snapshot()`; no timer runs until a client connects. */
  constructor(options: EventStreamOptions) {
    // `??`, not a spread: an option given as `undefined` keeps its default.
    this.#o = {
      snapshot: options.snapshot,
      interval: options.interval ?? 1000,
      pingInterval: options.pingInterval ?? 15_000,
      maxClients: options.maxClients ?? 16,
      onError: options.onError,
    };
  }

  /** Clients connected now. */
  get clients(): number {
    return this.#clients.size;
  }

  /** Whether the shared tick runs (only while a client is connected). */
  get ticking(): boolean {
    return this.#timer !== undefined;
  }

  /**
   * The response to `GET /console/events`: the stream (a first snapshot at
   * once), or 503 when `maxClients` are connected already.
   */
  response(_request: Request): Response {
    if (this.#clients.size >= this.#o.maxClients) {
      return new Response(
        JSON.stringify({
          error: `too many console clients (${this.#o.maxClients} at most); close a console tab and retry`,
          code: "E_CONSOLE_BUSY",
        }) + "\n",
        { status: 503, headers: { "content-type": "application/json; charset=utf-8", "retry-after": "5" } },
      );
    }
    let self: ReadableStreamDefaultController<Uint8Array> | undefined;
    const remove = () => self && this.#remove(self);
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        self = controller;
        this.#clients.add(controller);
        controller.enqueue(encoder.encode(`retry: 3000\n\n${snapshotEvent(this.#o.snapshot())}`));
        this.#schedule();
      },
      cancel: remove, // the client went away (the server cancels the body)
    }, { highWaterMark: 0 });
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      },
    });
  }

  /** End every client's stream and stop the tick. */
  close(): void {
    for (const c of [...this.#clients]) {
      this.#remove(c);
      try {
        c.close();
      } catch {
        // already closed or errored
      }
    }
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#clients.size === 0) return;
    this.#lastPing = Date.now();
    this.#timer = setInterval(() => this.#tick(), this.#o.interval);
  }

  #remove(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#clients.delete(controller);
    if (this.#clients.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #tick(): void {
    let text: string;
    try {
      text = snapshotEvent(this.#o.snapshot());
    } catch (error) {
      this.#o.onError?.(error);
      return;
    }
    const now = Date.now();
    if (now - this.#lastPing >= this.#o.pingInterval) {
      this.#lastPing = now;
      text = `: ping\n\n${text}`;
    }
    const bytes = encoder.encode(text);
    for (const c of [...this.#clients]) {
      if ((c.desiredSize ?? 0) < -MAX_BEHIND) {
        this.#remove(c); // too slow: it reconnects and starts from a fresh snapshot
        try {
          c.close();
        } catch {
          // already closed
        }
        continue;
      }
      try {
        c.enqueue(bytes);
      } catch {
        this.#remove(c);
      }
    }
  }
}

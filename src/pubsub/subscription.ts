/**
 * A subscription: delivers matching messages to a handler, or buffers them
 * for `for await` (bounded; the oldest are dropped if the consumer lags).
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import { deferred } from "../util/async.ts";
import { Queue } from "../util/queue.ts";

/** A message as subscribers receive it. */
export interface PubSubMessage {
  /** The realm it was published in. */
  realm: string;
  /** The topic it was published on (never a pattern). */
  topic: string;
  /** The payload, as decoded from CBOR: untrusted input, check its shape before use. */
  payload: unknown;
  /** The publishing node (proven by its connection or signature). */
  publisher: NodeId;
  /** The publisher's sequence number. */
  seq: number;
}

/** Receives messages. Errors it throws are counted and logged, never fatal. */
export type MessageHandler = (message: PubSubMessage) => unknown;

/**
 * A live subscription.
 *
 * @example
 * ```ts
 * import type { Node } from "../../mod.ts";
 * declare const node: Node;
 * const sub = node.subscribe("sensors.*.temp");
 * for await (const msg of sub) {
 *   console.log(msg.topic, msg.payload);
 *   if (msg.payload === "stop") sub.unsubscribe();
 * }
 * ```
 */
export class Subscription implements AsyncIterable<PubSubMessage> {
  /** The subscribed pattern (`*` one segment, trailing `>` the rest). */
  readonly pattern: string;
  /** The realm it listens in. */
  readonly realm: string;
  #handler?: MessageHandler;
  #onClose: (sub: Subscription) => void;
  #onHandlerError: (error: unknown) => void;
  #buffer = new Queue<PubSubMessage>();
  #bufferSize: number;
  #waiters: Array<ReturnType<typeof deferred<void>>> = [];
  #closed = false;
  #dropped = 0;

  /** @internal Created by the pub/sub service. */
  constructor(
    pattern: string,
    realm: string,
    handler: MessageHandler | undefined,
    hooks: { onClose: (sub: Subscription) => void; onHandlerError: (error: unknown) => void; bufferSize?: number },
  ) {
    this.pattern = pattern;
    this.realm = realm;
    this.#handler = handler;
    this.#onClose = hooks.onClose;
    this.#onHandlerError = hooks.onHandlerError;
    this.#bufferSize = hooks.bufferSize ?? 1024;
  }

  /** Messages dropped because an iterator consumer fell behind. */
  get dropped(): number {
    return this.#dropped;
  }

  /** True after `unsubscribe()`. */
  get closed(): boolean {
    return this.#closed;
  }

  /** @internal Hand over one message. */
  deliver(message: PubSubMessage): void {
    if (this.#closed) return;
    if (this.#handler) {
      try {
        const r = this.#handler(message);
        if (r && typeof (r as Promise<void>).catch === "function") (r as Promise<void>).catch(this.#onHandlerError);
      } catch (error) {
        this.#onHandlerError(error);
      }
      return;
    }
    this.#buffer.push(message);
    if (this.#buffer.length > this.#bufferSize) {
      this.#buffer.shift();
      this.#dropped++;
    }
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.resolve();
  }

  /** Stop receiving; ends any `for await` loop. */
  unsubscribe(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose(this);
    this.#wake();
  }

  /** Same as `unsubscribe()`. */
  [Symbol.dispose](): void {
    this.unsubscribe();
  }

  /** Iterate messages; leaving the loop (break, return, throw) unsubscribes. */
  async *[Symbol.asyncIterator](): AsyncIterator<PubSubMessage> {
    try {
      while (true) {
        const next = this.#buffer.shift();
        if (next) {
          yield next;
          continue;
        }
        if (this.#closed) return;
        const waiter = deferred<void>();
        this.#waiters.push(waiter);
        await waiter.promise;
      }
    } finally {
      this.unsubscribe();
    }
  }
}

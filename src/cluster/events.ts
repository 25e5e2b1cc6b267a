/**
 * A bounded async queue: the `cluster.events()` iterator.
 *
 * @module
 */

/**
 * Values pushed by a producer, read with `for await`. Holds at most
 * `capacity` unread values (the oldest are dropped).
 *
 * @example
 * ```ts
 * import { EventQueue } from "./events.ts";
 * const q = new EventQueue<number>(() => {});
 * q.push(1);
 * q.close();
 * for await (const n of q) console.log(n); // 1
 * ```
 */
export class EventQueue<T> implements AsyncIterableIterator<T> {
  #items: T[] = [];
  #waiting?: (result: IteratorResult<T>) => void;
  #closed = false;
  #onClose: () => void;
  readonly capacity: number;

  /** `onClose` runs once when the reader stops (or `close()` is called). */
  constructor(onClose: () => void, capacity = 1024) {
    this.#onClose = onClose;
    this.capacity = capacity;
  }

  /** Add a value (ignored after close). */
  push(value: T): void {
    if (this.#closed) return;
    if (this.#waiting) {
      const w = this.#waiting;
      this.#waiting = undefined;
      return w({ value, done: false });
    }
    this.#items.push(value);
    if (this.#items.length > this.capacity) this.#items.shift();
  }

  /** End the iteration after the values already queued. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose();
    this.#waiting?.({ value: undefined, done: true });
    this.#waiting = undefined;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#items.length > 0) return Promise.resolve({ value: this.#items.shift()!, done: false });
    if (this.#closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.#waiting = resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.#items = [];
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}

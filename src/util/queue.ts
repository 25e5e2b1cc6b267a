/**
 * A double-ended queue on a growable ring buffer: `push`, `shift`,
 * `unshift` and `peek` are O(1) (amortised), unlike `Array#shift`, which
 * moves every remaining element.
 *
 * @module
 */

const MIN_CAPACITY = 16;

/**
 * A FIFO queue that can also put items back at its front.
 *
 * @example
 * ```ts
 * import { Queue } from "./queue.ts";
 * const q = new Queue<number>();
 * q.push(1);
 * q.push(2);
 * q.unshift(0);
 * q.shift(); // 0
 * q.peek(); // 1
 * q.length; // 2
 * ```
 */
export class Queue<T> implements Iterable<T> {
  #items: Array<T | undefined>;
  #head = 0;
  #length = 0;

  /** An empty queue with room for `capacity` items before it grows. */
  constructor(capacity = MIN_CAPACITY) {
    let size = MIN_CAPACITY;
    while (size < capacity) size *= 2;
    this.#items = new Array(size);
  }

  /** Items queued. */
  get length(): number {
    return this.#length;
  }

  /** Append `item` at the back. */
  push(item: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#length) & (this.#items.length - 1)] = item;
    this.#length++;
  }

  /** Put `item` at the front (it is the next `shift()`). */
  unshift(item: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#head = (this.#head - 1) & (this.#items.length - 1);
    this.#items[this.#head] = item;
    this.#length++;
  }

  /** Remove and return the front item (`undefined` when empty). */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined; // let it be collected
    this.#head = (this.#head + 1) & (this.#items.length - 1);
    this.#length--;
    return item;
  }

  /** The front item without removing it (`undefined` when empty). */
  peek(): T | undefined {
    return this.#length === 0 ? undefined : this.#items[this.#head];
  }

  /** The item `index` places from the front (`undefined` out of range). */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.#length) return undefined;
    return this.#items[(this.#head + index) & (this.#items.length - 1)];
  }

  /** Remove every item. */
  clear(): void {
    this.#items = new Array(MIN_CAPACITY);
    this.#head = 0;
    this.#length = 0;
  }

  /** Items front to back (do not modify the queue while iterating). */
  *[Symbol.iterator](): Iterator<T> {
    for (let i = 0; i < this.#length; i++) yield this.#items[(this.#head + i) & (this.#items.length - 1)] as T;
  }

  #grow(): void {
    const old = this.#items;
    const items = new Array<T | undefined>(old.length * 2);
    for (let i = 0; i < this.#length; i++) items[i] = old[(this.#head + i) & (old.length - 1)];
    this.#items = items;
    this.#head = 0;
  }
}

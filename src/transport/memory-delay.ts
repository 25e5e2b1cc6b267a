/**
 * The per-direction delay of in-memory links (`memory.ts`): what one side
 * sends reaches the other `delay()` ms later, in the order it was sent.
 *
 * @module
 */

/**
 * Actions on the far side of a link, run `delay()` ms later and in order.
 *
 * @example
 * ```ts
 * import { Outbox } from "./memory-delay.ts";
 * const outbox = new Outbox(() => 20);
 * outbox.send(() => console.log("arrives 20 ms later"));
 * ```
 */
export class Outbox {
  readonly #delay: () => number;
  #items: Array<{ due: number; action: () => void }> = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(delay: () => number) {
    this.#delay = delay;
  }

  /** Run `action` after the link's current delay (at once if none, and nothing is in flight). */
  send(action: () => void): void {
    const ms = this.#delay();
    if (ms <= 0 && this.#items.length === 0) return action();
    const last = this.#items.at(-1)?.due ?? 0;
    this.#items.push({ due: Math.max(performance.now() + ms, last), action });
    if (this.#items.length === 1) this.#arm();
  }

  /** Drop everything in flight (the stream was reset or its connection closed). */
  drop(): void {
    this.#items = [];
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    this.#timer = setTimeout(() => this.#flush(), Math.max(0, this.#items[0].due - performance.now()));
  }

  #flush(): void {
    this.#timer = undefined;
    const now = performance.now() + 1; // timers have ms resolution
    while (this.#items.length > 0 && this.#items[0].due <= now) this.#items.shift()!.action();
    if (this.#items.length > 0) this.#arm();
  }
}

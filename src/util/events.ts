/**
 * A tiny typed event emitter.
 *
 * @module
 */

/**
 * Typed listeners keyed by event name.
 *
 * @example
 * ```ts
 * import { Emitter } from "./events.ts";
 * const e = new Emitter<{ tick: [number] }>();
 * const off = e.on("tick", (n) => console.log(n));
 * e.emit("tick", 1);
 * off();
 * ```
 */
export class Emitter<Events extends Record<string, unknown[]>> {
  // deno-lint-ignore no-explicit-any
  #listeners = new Map<keyof Events, Set<(...args: any[]) => void>>();

  /** Add a listener; returns a function that removes it. */
  on<K extends keyof Events>(event: K, listener: (...args: Events[K]) => void): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, set = new Set());
    set.add(listener);
    return () => this.off(event, listener);
  }

  /** Remove a listener. */
  off<K extends keyof Events>(event: K, listener: (...args: Events[K]) => void): void {
    this.#listeners.get(event)?.delete(listener);
  }

  /** Call every listener; a listener that throws does not stop the others. */
  emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}

/**
 * A set of pending timeouts that can be cancelled together: the delayed
 * work of a service (announcements, dials, mDNS answers) without an
 * ever-growing list of timer ids.
 *
 * @module
 */

/**
 * Pending one-shot timers.
 *
 * @example
 * ```ts
 * import { Timers } from "./timers.ts";
 * const timers = new Timers();
 * timers.after(100, () => console.log("later"));
 * timers.clear(); // nothing runs
 * ```
 */
export class Timers {
  #pending = new Set<ReturnType<typeof setTimeout>>();
  #cleared = false;

  /** Run `fn` after `ms`, unless `clear()` is called first. Ignored once cleared. */
  after(ms: number, fn: () => void): void {
    if (this.#cleared) return;
    const timer = setTimeout(() => {
      this.#pending.delete(timer);
      fn();
    }, ms);
    this.#pending.add(timer);
  }

  /** Cancel every pending timer; later `after` calls do nothing. */
  clear(): void {
    this.#cleared = true;
    for (const t of this.#pending) clearTimeout(t);
    this.#pending.clear();
  }
}

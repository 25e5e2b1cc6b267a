/**
 * Staggered dialing (in the spirit of Happy Eyeballs, RFC 8305): start the
 * first attempt, then the next one after `stagger` ms or as soon as the
 * previous fails; the first success wins and late successes are handed to
 * `onLoser` for closing.
 *
 * @module
 */
import { AbortedError } from "../util/async.ts";

/** Options of `raceAttempts`. */
export interface RaceOptions<T> {
  /** Delay before starting the next attempt while one is pending, ms. */
  stagger: number;
  signal?: AbortSignal;
  /** Receives results that arrive after a winner. */
  onLoser?: (value: T) => void;
}

/**
 * Run `attempts` staggered; resolve with the first success, or reject with
 * an `AggregateError` of every failure.
 *
 * @example
 * ```ts
 * import { raceAttempts } from "./dial-race.ts";
 * const value = await raceAttempts([() => Promise.reject(new Error("no")), () => Promise.resolve(42)], { stagger: 250 });
 * ```
 */
export function raceAttempts<T>(attempts: Array<() => Promise<T>>, options: RaceOptions<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (attempts.length === 0) return reject(new AggregateError([], "no addresses to dial"));
    const errors: unknown[] = new Array(attempts.length);
    let next = 0;
    let failed = 0;
    let done = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => finish(() => reject(new AbortedError("dial was cancelled")));
    const finish = (settle: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      settle();
    };
    const launch = () => {
      clearTimeout(timer);
      if (done || next >= attempts.length) return;
      const i = next++;
      let p: Promise<T>;
      try {
        p = attempts[i]();
      } catch (error) {
        p = Promise.reject(error);
      }
      p.then(
        (value) => {
          if (done) return options.onLoser?.(value);
          finish(() => resolve(value));
        },
        (error) => {
          errors[i] = error;
          failed++;
          if (done) return;
          if (failed === attempts.length) {
            finish(() => reject(new AggregateError(errors, "every dial attempt failed")));
          } else if (next === i + 1) {
            launch();
          }
        },
      );
      if (next < attempts.length) timer = setTimeout(launch, options.stagger);
    };
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    launch();
  });
}

/**
 * Promise helpers: deferreds, abortable sleeps and deadlines.
 *
 * @module
 */
import { MaculaError } from "./errors.ts";

/** Thrown when an operation exceeds its deadline. */
export class TimeoutError extends MaculaError {
  /** Build the error (code `E_TIMEOUT`). */
  constructor(message: string) {
    super("E_TIMEOUT", message);
  }
}

/** Thrown when an operation is cancelled through an `AbortSignal`. */
export class AbortedError extends MaculaError {
  /** Build the error (code `E_ABORTED`); `options.cause` keeps the underlying reason, if any. */
  constructor(message = "operation was cancelled", options?: ErrorOptions) {
    super("E_ABORTED", message, options);
  }
}

/** A promise with its resolve/reject functions exposed. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T | PromiseLike<T>): void;
  reject(reason?: unknown): void;
}

/** Create a `Deferred`. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T | PromiseLike<T>) => void;
  let reject!: (reason?: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Resolve after `ms`; rejects with `AbortedError` if `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError());
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Race `promise` against a deadline and an optional abort signal. The
 * underlying operation is not cancelled; use `onLate` to clean up a result
 * that arrives after the deadline.
 */
export function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
  options: { signal?: AbortSignal; onLate?: (value: T) => void } = {},
): Promise<T> {
  const { signal, onLate } = options;
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = () => {
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const onAbort = () => {
      if (settled) return;
      finish();
      reject(new AbortedError(`${what} was cancelled`));
    };
    const timer = setTimeout(() => {
      if (settled) return;
      finish();
      reject(new TimeoutError(`${what} timed out after ${ms} ms`));
    }, ms);
    promise.then(
      (value) => {
        if (settled) return onLate?.(value);
        finish();
        resolve(value);
      },
      (error) => {
        if (settled) return;
        finish();
        reject(error);
      },
    );
    // Handlers are attached first, so a late result still reaches onLate
    // and a late rejection is never unhandled.
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

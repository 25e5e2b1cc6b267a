/** Typed assertion helpers over node:assert/strict (JSR's @std/assert is unreachable here). */
import nodeAssert from "node:assert/strict";

export function assert(condition: unknown, message?: string): asserts condition {
  nodeAssert.ok(condition, message);
}

export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  nodeAssert.deepStrictEqual(normalise(actual), normalise(expected), message);
}

export function assertNotEquals<T>(actual: T, expected: T, message?: string): void {
  nodeAssert.notDeepStrictEqual(normalise(actual), normalise(expected), message);
}

// deno-lint-ignore no-explicit-any
type ErrorClass = abstract new (...args: any[]) => Error;

function check(error: unknown, ErrorType?: ErrorClass, includes?: string, message?: string): Error {
  if (ErrorType && !(error instanceof ErrorType)) {
    throw new nodeAssert.AssertionError({
      message: `${message ?? ""} expected ${ErrorType.name}, got ${(error as Error)?.constructor?.name}: ${
        (error as Error)?.message
      }`,
    });
  }
  if (includes && !String((error as Error)?.message).includes(includes)) {
    throw new nodeAssert.AssertionError({
      message: `${message ?? ""} expected message to include ${JSON.stringify(includes)}, got ${
        JSON.stringify((error as Error)?.message)
      }`,
    });
  }
  return error as Error;
}

export function assertThrows(fn: () => unknown, ErrorType?: ErrorClass, includes?: string, message?: string): Error {
  try {
    fn();
  } catch (error) {
    return check(error, ErrorType, includes, message);
  }
  throw new nodeAssert.AssertionError({ message: message ?? "expected function to throw" });
}

export async function assertRejects(
  fn: () => Promise<unknown>,
  ErrorType?: ErrorClass,
  includes?: string,
  message?: string,
): Promise<Error> {
  try {
    await fn();
  } catch (error) {
    return check(error, ErrorType, includes, message);
  }
  throw new nodeAssert.AssertionError({ message: message ?? "expected promise to reject" });
}

/** Convert Buffers and typed-array subclasses to plain Uint8Array for comparison. */
function normalise<T>(value: T): T {
  if (value instanceof Uint8Array && value.constructor !== Uint8Array) {
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength) as T;
  }
  return value;
}

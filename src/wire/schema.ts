/**
 * Validating decoders: small combinators that turn an untyped decoded CBOR
 * value into a typed message, or throw `WireError` naming the bad field.
 *
 * @example
 * ```ts
 * import { bytes, messageDecoder, object, str, uint } from "./schema.ts";
 * const decodeHello = messageDecoder("hello", object({
 *   id: bytes({ length: 32 }),
 *   name: str({ max: 64 }),
 *   seq: uint(),
 * }));
 * ```
 *
 * @module
 */
import { plain } from "../util/bytes.ts";
import { decodeCbor } from "./cbor.ts";
import { WireError } from "./errors.ts";

/** Raised inside a validator; `messageDecoder` turns it into a `WireError`. */
export class SchemaError extends Error {
  constructor(readonly path: string, readonly detail: string) {
    super(`${path || "value"}: ${detail}`);
  }
}

/** A validator: checks `value` and returns it typed, or throws `SchemaError`. */
export type Validator<T> = (value: unknown, path: string) => T;

/** The type a validator produces. */
export type Infer<V> = V extends Validator<infer T> ? T : never;

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (value instanceof Uint8Array) return "bytes";
  return typeof value;
}

/** A byte string, optionally of exact `length` or at most `max` bytes. */
export function bytes(opts: { length?: number; max?: number } = {}): Validator<Uint8Array> {
  return (value, path) => {
    if (!(value instanceof Uint8Array)) throw new SchemaError(path, `expected bytes, got ${describe(value)}`);
    if (opts.length !== undefined && value.length !== opts.length) {
      throw new SchemaError(path, `expected ${opts.length} bytes, got ${value.length}`);
    }
    if (opts.max !== undefined && value.length > opts.max) {
      throw new SchemaError(path, `at most ${opts.max} bytes allowed, got ${value.length}`);
    }
    return plain(value);
  };
}

/** A text string of at most `max` UTF-16 units, optionally matching `pattern`. */
export function str(opts: { max: number; min?: number; pattern?: RegExp }): Validator<string> {
  return (value, path) => {
    if (typeof value !== "string") throw new SchemaError(path, `expected string, got ${describe(value)}`);
    if (value.length > opts.max) throw new SchemaError(path, `at most ${opts.max} characters allowed`);
    if (opts.min !== undefined && value.length < opts.min) {
      throw new SchemaError(path, `at least ${opts.min} characters required`);
    }
    if (opts.pattern && !opts.pattern.test(value)) {
      throw new SchemaError(path, `does not match ${opts.pattern}`);
    }
    return value;
  };
}

/** A non-negative safe integer, at most `max`. */
export function uint(opts: { max?: number } = {}): Validator<number> {
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  return (value, path) => {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
      throw new SchemaError(path, `expected unsigned integer, got ${describe(value)}`);
    }
    if (value > max) throw new SchemaError(path, `must be at most ${max}`);
    return value;
  };
}

/** A boolean. */
export function bool(): Validator<boolean> {
  return (value, path) => {
    if (typeof value !== "boolean") throw new SchemaError(path, `expected boolean, got ${describe(value)}`);
    return value;
  };
}

/** One of a fixed set of literal values. */
export function literal<T extends string | number | boolean>(...values: T[]): Validator<T> {
  return (value, path) => {
    if (!values.includes(value as T)) {
      throw new SchemaError(path, `expected one of ${values.map((v) => JSON.stringify(v)).join(", ")}`);
    }
    return value as T;
  };
}

/** An array of at most `max` items, each checked by `item`. */
export function array<T>(item: Validator<T>, opts: { max: number }): Validator<T[]> {
  return (value, path) => {
    if (!Array.isArray(value)) throw new SchemaError(path, `expected array, got ${describe(value)}`);
    if (value.length > opts.max) throw new SchemaError(path, `at most ${opts.max} items allowed`);
    return value.map((v, i) => item(v, `${path}[${i}]`));
  };
}

/** Marks a field of `object` as optional (absent or `undefined`/`null`). */
export function optional<T>(inner: Validator<T>): Validator<T | undefined> & { optional: true } {
  const v =
    ((value: unknown, path: string) => value === undefined || value === null ? undefined : inner(value, path)) as
      & Validator<T | undefined>
      & { optional: true };
  v.optional = true;
  return v;
}

/** Any CBOR value (the application's payload); only its size is bounded by the frame. */
export function any(): Validator<unknown> {
  return (value) => value;
}

type Shape = Record<string, Validator<unknown>>;
type ObjectOf<S extends Shape> =
  & { [K in keyof S as S[K] extends { optional: true } ? never : K]: Infer<S[K]> }
  & { [K in keyof S as S[K] extends { optional: true } ? K : never]?: Infer<S[K]> };

/** A map with the given fields. Unknown fields are ignored (forward compatible). */
export function object<S extends Shape>(shape: S): Validator<ObjectOf<S>> {
  const keys = Object.keys(shape);
  return (value, path) => {
    if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Uint8Array) {
      throw new SchemaError(path, `expected map, got ${describe(value)}`);
    }
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new SchemaError(path, `expected map, got ${value.constructor?.name ?? "object"}`);
    }
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      const field = Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
      const checked = shape[key](field, path ? `${path}.${key}` : key);
      if (checked !== undefined) out[key] = checked;
    }
    return out as ObjectOf<S>;
  };
}

/**
 * Build the decoder of one message type: CBOR-decode then validate. Every
 * failure is a `WireError` whose `messageType` is `name`.
 */
export function messageDecoder<T>(name: string, validator: Validator<T>): (bytes: Uint8Array) => T {
  return (input) => {
    const value = decodeCbor(input, name);
    try {
      return validator(value, "");
    } catch (error) {
      if (error instanceof SchemaError) throw new WireError("E_WIRE_INVALID", name, error.message);
      throw new WireError("E_WIRE_INVALID", name, String((error as Error)?.message ?? error));
    }
  };
}

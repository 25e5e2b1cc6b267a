/**
 * The UCAN 1.0 policy language: a policy is a list of statements, all of
 * which must hold on an invocation's `args`.
 *
 * | Statement | Holds when |
 * |---|---|
 * | `["==", sel, value]` / `["!=", sel, value]` | the selection deep-equals (does not equal) `value` |
 * | `["<", sel, n]`, `<=`, `>`, `>=` | the selection is a number in that relation to `n` |
 * | `["like", sel, glob]` | the selection is a string matching `glob` (`*` wildcard, `\*` literal) |
 * | `["not", s]` | `s` does not hold |
 * | `["and", [s…]]` / `["or", [s…]]` | every / some `s` holds (an empty list holds for both) |
 * | `["all", sel, s]` / `["any", sel, s]` | the selection is a list or map and `s` holds on every / some value |
 *
 * A statement whose selector fails to resolve, or that meets a value of the
 * wrong type, is false (evaluation never throws on data). `any` over an
 * empty collection is false, `all` over one is true.
 *
 * @module
 */
import { InvalidPolicyError } from "./errors.ts";
import { compileGlob, type Glob, globMatches } from "./glob.ts";
import { asCid, deepFreeze, ipldEquals, isMap } from "./ipld.ts";
import { NO_VALUE, parseSelector, resolveSegments, type SelectorSegment } from "./selector.ts";

/** One policy statement, e.g. `["==", ".name", "io.acme"]`. */
export type Statement = readonly unknown[];
/** A policy: statements that must all hold. */
export type Policy = readonly Statement[];

/** Deepest nesting of statements (`not`, `and`, `or`, `all`, `any`) accepted. */
export const MAX_POLICY_DEPTH = 16;
/** Most statements (counting nested ones) a policy may hold. */
export const MAX_POLICY_STATEMENTS = 512;

/** A compiled statement: a predicate on the args (or on the value a quantifier is at). */
type Predicate = (value: unknown) => boolean;

const compiled = new WeakMap<Policy, Predicate>();

function select(segments: readonly SelectorSegment[], test: (v: unknown) => boolean): Predicate {
  return (value) => {
    const selected = resolveSegments(segments, value);
    return selected !== NO_VALUE && test(selected);
  };
}

function isNumber(v: unknown): v is number | bigint {
  return (typeof v === "number" && Number.isFinite(v)) || typeof v === "bigint";
}

function isIpld(value: unknown, depth: number): boolean {
  if (depth > 64) return false;
  if (value === null || typeof value === "string" || typeof value === "boolean" || typeof value === "bigint") {
    return true;
  }
  if (typeof value === "number") return Number.isFinite(value);
  if (value instanceof Uint8Array) return true;
  if (Array.isArray(value)) return value.every((v) => isIpld(v, depth + 1));
  if (isMap(value)) return Object.values(value).every((v) => isIpld(v, depth + 1));
  return asCid(value) !== undefined;
}

class Compiler {
  count = 0;

  statement(s: unknown, depth: number): Predicate {
    if (++this.count > MAX_POLICY_STATEMENTS) {
      throw new InvalidPolicyError(`a policy holds at most ${MAX_POLICY_STATEMENTS} statements`);
    }
    if (depth > MAX_POLICY_DEPTH) throw new InvalidPolicyError(`policy nesting deeper than ${MAX_POLICY_DEPTH}`);
    if (!Array.isArray(s) || typeof s[0] !== "string") {
      throw new InvalidPolicyError(`a statement is a list starting with an operator, got ${describe(s)}`);
    }
    const op = s[0];
    const arity = (n: number) => {
      if (s.length !== n) {
        throw new InvalidPolicyError(`${JSON.stringify(op)} takes ${n - 1} operands, got ${s.length - 1}`);
      }
    };
    switch (op) {
      case "==":
      case "!=": {
        arity(3);
        const segments = parseSelector(s[1]);
        const expected = s[2];
        if (!isIpld(expected, 0)) {
          throw new InvalidPolicyError(`${op} compares with a value outside the IPLD data model`);
        }
        return op === "=="
          ? select(segments, (v) => ipldEquals(v, expected))
          : select(segments, (v) => !ipldEquals(v, expected));
      }
      case "<":
      case "<=":
      case ">":
      case ">=": {
        arity(3);
        const segments = parseSelector(s[1]);
        const n = s[2];
        if (!isNumber(n)) throw new InvalidPolicyError(`${op} compares with a number, got ${describe(n)}`);
        const test = op === "<"
          ? (v: number | bigint) => v < n
          : op === "<="
          ? (v: number | bigint) => v <= n
          : op === ">"
          ? (v: number | bigint) => v > n
          : (v: number | bigint) => v >= n;
        return select(segments, (v) => isNumber(v) && test(v));
      }
      case "like": {
        arity(3);
        const segments = parseSelector(s[1]);
        if (typeof s[2] !== "string") {
          throw new InvalidPolicyError(`like takes a string pattern, got ${describe(s[2])}`);
        }
        const glob: Glob = compileGlob(s[2]);
        return select(segments, (v) => typeof v === "string" && globMatches(glob, v));
      }
      case "not": {
        arity(2);
        const inner = this.statement(s[1], depth + 1);
        return (value) => !inner(value);
      }
      case "and":
      case "or": {
        arity(2);
        if (!Array.isArray(s[1])) throw new InvalidPolicyError(`${op} takes a list of statements`);
        const inner = s[1].map((x) => this.statement(x, depth + 1));
        return op === "and"
          ? (value) => inner.every((p) => p(value))
          : (value) => inner.length === 0 || inner.some((p) => p(value));
      }
      case "all":
      case "any": {
        arity(3);
        const segments = parseSelector(s[1]);
        const inner = this.statement(s[2], depth + 1);
        const test = (v: unknown) => {
          const items = Array.isArray(v) ? v : isMap(v) ? Object.values(v) : undefined;
          if (!items) return false;
          return op === "all" ? items.every((x) => inner(x)) : items.some((x) => inner(x));
        };
        return select(segments, test);
      }
      default:
        throw new InvalidPolicyError(`unknown policy operator ${JSON.stringify(op.slice(0, 40))}`);
    }
  }
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (v instanceof Uint8Array) return "bytes";
  return typeof v === "object" ? "a map" : `${typeof v} ${String(v).slice(0, 40)}`;
}

function compile(pol: unknown): Predicate {
  if (!Array.isArray(pol)) throw new InvalidPolicyError(`a policy is a list of statements, got ${describe(pol)}`);
  const compiler = new Compiler();
  const statements = pol.map((s) => compiler.statement(s, 1));
  return (args) => statements.every((p) => p(args));
}

/**
 * Check that `pol` is a valid policy, or throw `InvalidPolicyError`; returns
 * it, frozen (it must not change after validation, so it is compiled once).
 *
 * @example
 * ```ts
 * import { validatePolicy } from "./policy.ts";
 * const pol = validatePolicy([["like", ".name", "io.acme.*"]]);
 * // validatePolicy([["~=", ".name", "x"]]) throws InvalidPolicyError
 * ```
 */
export function validatePolicy(pol: unknown): Policy {
  const predicate = compile(pol);
  const frozen = deepFreeze(pol as Policy);
  compiled.set(frozen, predicate);
  return frozen;
}

/**
 * Whether every statement of `pol` holds on `args`. Never throws on data:
 * wrong types, missing fields and unresolvable selectors make a statement
 * false. Throws `InvalidPolicyError` if `pol` itself is not a valid policy.
 *
 * @example
 * ```ts
 * import { evaluatePolicy } from "./policy.ts";
 * evaluatePolicy([["like", ".name", "io.acme.*"]], { name: "io.acme.plant3" }); // true
 * evaluatePolicy([[">", ".n", 1]], { n: "2" }); // false: not a number
 * ```
 */
export function evaluatePolicy(pol: Policy, args: unknown): boolean {
  const predicate = compiled.get(pol) ?? compile(pol);
  try {
    return predicate(args);
  } catch {
    // Only pathological data (a stack overflow on a very deep value) gets here.
    return false;
  }
}

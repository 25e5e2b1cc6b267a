/**
 * The shape checks of an app's declarations: identity, capabilities and
 * API entries (topics, procedures, content types) and whether a resource
 * is inside the declared API. No proof is involved here; `pipeline.ts`
 * adds the checks against the app's chain.
 *
 * @module
 */
import { APP_CAPABILITIES, type AppCapability } from "../auth/commands.ts";
import { inNamespace, isPublicTopic, NamespaceError, validateNamespace } from "../auth/namespace.ts";
import { matches, validatePattern, validateTopic } from "../pubsub/topic.ts";
import type { AppOperation, MeshApi } from "./app.ts";
import { AdmissionError } from "./errors.ts";

/** Most entries of each kind in an app's API. */
export const MAX_API_ENTRIES = 256;
/** Longest content type. */
export const MAX_CONTENT_TYPE_LENGTH = 255;

/** One refused API entry. */
export interface ApiEntryProblem {
  /** Which list it is in. */
  kind: "topic" | "procedure" | "contentType";
  /** The entry as declared. */
  entry: unknown;
  /** What is wrong with it. */
  reason: string;
}

/**
 * Check an app identity: a valid namespace-shaped name (at least three
 * lowercase segments). Throws `AdmissionError` (`invalid_identity`, details
 * = the `NamespaceError` reason).
 *
 * @example
 * ```ts
 * import { validateIdentity } from "./api-spec.ts";
 * validateIdentity("io.acme.plant3.weather"); // ok
 * // validateIdentity("io.acme") throws AdmissionError (invalid_identity)
 * ```
 */
export function validateIdentity(identity: unknown): string {
  try {
    validateNamespace(identity as string);
    return identity as string;
  } catch (error) {
    const reason = error instanceof NamespaceError ? error.reason : "invalid_format";
    throw new AdmissionError("invalid_identity", (error as Error).message, reason, { cause: error });
  }
}

/**
 * Check declared capabilities: an array of distinct members of
 * `APP_CAPABILITIES`. Throws `AdmissionError` (`invalid_capability`,
 * details = `{ invalid, duplicates }`).
 *
 * @example
 * ```ts
 * import { validateCapabilities } from "./api-spec.ts";
 * validateCapabilities(["publish", "subscribe"]); // ["publish", "subscribe"]
 * // validateCapabilities(["publish", "teleport"]) throws AdmissionError (invalid_capability)
 * ```
 */
export function validateCapabilities(capabilities: unknown): AppCapability[] {
  if (!Array.isArray(capabilities)) {
    throw new AdmissionError("invalid_capability", "capabilities must be an array", { invalid: [capabilities] });
  }
  const invalid: unknown[] = [];
  const duplicates: string[] = [];
  const seen = new Set<string>();
  for (const c of capabilities) {
    if (!APP_CAPABILITIES.includes(c as AppCapability)) invalid.push(c);
    else if (seen.has(c)) duplicates.push(c);
    else seen.add(c);
  }
  if (invalid.length || duplicates.length) {
    const parts = [
      invalid.length ? `unknown ${invalid.map((c) => JSON.stringify(c)).join(", ")}` : "",
      duplicates.length ? `duplicate ${duplicates.join(", ")}` : "",
    ].filter(Boolean);
    throw new AdmissionError(
      "invalid_capability",
      `${parts.join("; ")} (valid: ${APP_CAPABILITIES.join(", ")})`,
      { invalid, duplicates },
    );
  }
  return [...capabilities] as AppCapability[];
}

function list(api: Record<string, unknown>, key: string): unknown[] {
  const value = api[key];
  if (!Array.isArray(value)) {
    throw new AdmissionError("invalid_api_entries", `api.${key} must be an array`, [
      { kind: key === "contentTypes" ? "contentType" : key.slice(0, -1), entry: value, reason: "not an array" },
    ]);
  }
  return value;
}

function topicProblem(topic: unknown, namespace: string): string | undefined {
  if (typeof topic !== "string") return "not a string";
  try {
    validatePattern(topic);
  } catch (error) {
    return (error as Error).message;
  }
  if (inNamespace(topic, namespace)) return undefined;
  if (isPublicTopic(topic)) return undefined; // subscribe-only: other namespaces' public topics
  return `outside the namespace ${namespace}`;
}

function procedureProblem(procedure: unknown, namespace: string): string | undefined {
  if (typeof procedure !== "string") return "not a string";
  try {
    validateTopic(procedure);
  } catch (error) {
    return (error as Error).message;
  }
  return inNamespace(procedure, namespace) ? undefined : `outside the namespace ${namespace}`;
}

function contentTypeProblem(type: unknown): string | undefined {
  if (typeof type !== "string" || type.length === 0) return "not a non-empty string";
  if (type.length > MAX_CONTENT_TYPE_LENGTH) return `longer than ${MAX_CONTENT_TYPE_LENGTH} characters`;
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(type)) return "contains control characters";
  return undefined;
}

/**
 * Check an app's API against its `namespace`: topics are valid topics or
 * patterns inside the namespace (or public topics of other namespaces, for
 * subscriptions), procedures valid names inside the namespace, content
 * types non-empty strings; at most `MAX_API_ENTRIES` of each. Throws
 * `AdmissionError` (`invalid_api_entries`, details = `ApiEntryProblem[]`).
 *
 * @example
 * ```ts
 * import { validateApi } from "./api-spec.ts";
 * validateApi({ topics: ["io.acme.plant3.temp.*"], procedures: [], contentTypes: ["text/csv"] }, "io.acme.plant3");
 * // validateApi({ topics: ["io.acme.plant4.temp"], procedures: [], contentTypes: [] }, "io.acme.plant3") throws
 * ```
 */
export function validateApi(api: unknown, namespace: string): MeshApi {
  if (typeof api !== "object" || api === null || Array.isArray(api)) {
    throw new AdmissionError("invalid_api_entries", "the api must be an object { topics, procedures, contentTypes }", [
      { kind: "topic", entry: api, reason: "not an object" },
    ]);
  }
  const record = api as Record<string, unknown>;
  const topics = list(record, "topics");
  const procedures = list(record, "procedures");
  const contentTypes = list(record, "contentTypes");
  const problems: ApiEntryProblem[] = [];
  const check = (kind: ApiEntryProblem["kind"], entries: unknown[], problem: (e: unknown) => string | undefined) => {
    if (entries.length > MAX_API_ENTRIES) {
      problems.push({ kind, entry: entries.length, reason: `more than ${MAX_API_ENTRIES} entries` });
      return;
    }
    for (const entry of entries) {
      const reason = problem(entry);
      if (reason) problems.push({ kind, entry, reason });
    }
  };
  check("topic", topics, (t) => topicProblem(t, namespace));
  check("procedure", procedures, (p) => procedureProblem(p, namespace));
  check("contentType", contentTypes, contentTypeProblem);
  if (problems.length) {
    const shown = problems.slice(0, 3).map((p) => `${p.kind} ${JSON.stringify(p.entry)}: ${p.reason}`);
    const more = problems.length > 3 ? ` (and ${problems.length - 3} more)` : "";
    throw new AdmissionError("invalid_api_entries", shown.join("; ") + more, problems);
  }
  return {
    topics: topics as string[],
    procedures: procedures as string[],
    contentTypes: contentTypes as string[],
  };
}

/**
 * Whether every topic `inner` matches is also matched by pattern `outer`
 * (`*` one segment, trailing `>` one or more).
 *
 * @example
 * ```ts
 * import { patternWithin } from "./api-spec.ts";
 * patternWithin("io.acme.plant3.temp.*", "io.acme.plant3.>"); // true
 * patternWithin("io.acme.plant3.>", "io.acme.plant3.*"); // false
 * ```
 */
export function patternWithin(inner: string, outer: string): boolean {
  const a = inner.split(".");
  const b = outer.split(".");
  for (let i = 0; i < a.length; i++) {
    if (b[i] === ">") return true; // a has a segment here: the rest is covered
    if (i >= b.length || a[i] === ">") return false;
    if (b[i] !== "*" && a[i] !== b[i]) return false;
  }
  return a.length === b.length;
}

function valid(check: (name: string) => string, name: string): boolean {
  try {
    check(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether `resource` is inside the declared `api` for `op`: a published
 * (concrete) topic matched by a declared topic or pattern, a subscribed pattern within
 * a declared one, a declared procedure (call, register), a declared content
 * type (provide, consume).
 *
 * @example
 * ```ts
 * import { declares } from "./api-spec.ts";
 * const api = { topics: ["io.acme.plant3.temp.*"], procedures: ["io.acme.plant3.reset"], contentTypes: [] };
 * declares(api, "publish", "io.acme.plant3.temp.kitchen"); // true
 * declares(api, "call", "io.acme.plant3.other"); // false
 * ```
 */
export function declares(api: MeshApi, op: AppOperation, resource: string): boolean {
  switch (op) {
    case "publish":
      return valid(validateTopic, resource) && api.topics.some((t) => matches(t, resource));
    case "subscribe":
      return valid(validatePattern, resource) && api.topics.some((t) => patternWithin(resource, t));
    case "call":
    case "register":
      return api.procedures.includes(resource);
    case "provide_content":
    case "consume_content":
      return api.contentTypes.includes(resource);
  }
}

/**
 * Replicated state through the node, on its status port: what
 * `macula state get|set|delete|watch` use. Loopback only (they act with the
 * node's identity and capabilities).
 *
 * | route | answer |
 * |---|---|
 * | `GET /state/get?name=N[&key=K][&realm=R]` | `{realm, name, key, found, value}`, or `{realm, name, entries}` without a key |
 * | `POST /state/set` `{name, key, value, realm?}` | `{realm, name, key}` |
 * | `POST /state/delete` `{name, key, realm?}` | `{realm, name, key, deleted}` |
 * | `GET /state/watch?name=N[&key=K][&realm=R]` | one JSON line per change `{key, value, deleted, local, writer}` |
 *
 * Errors are one-line JSON `{"error", "code"}`: 400 for bad input, 403 for
 * a refusal, 502 otherwise.
 *
 * @module
 */
import type { StateChange, StateMap } from "../state/state-map.ts";
import type { OpenStateOptions } from "../state/state-service.ts";
import { MaculaError } from "../util/errors.ts";
import { BadRequestError, readJsonObject } from "./json-body.ts";
import { json, type Route } from "./status-server.ts";

/** What the routes need of the node (`node.state` has it). */
export interface StateApi {
  /** Open (or get) a replicated map. */
  open(name: string, options?: OpenStateOptions): Promise<StateMap>;
}

const ROUTES = new Set(["/state/get", "/state/set", "/state/delete", "/state/watch"]);
const MAX_BODY = 64 * 1024;

function failure(error: unknown): Response {
  const message = (error instanceof Error ? error.message : String(error)).split("\n")[0];
  const code = error instanceof MaculaError ? error.code : "E_UNKNOWN";
  const status = code === "E_BAD_REQUEST" || code.startsWith("E_STATE") ? 400 : code === "E_NOT_AUTHORIZED" ? 403 : 502;
  return json({ error: message, code }, status);
}

function body(request: Request): Promise<Record<string, unknown>> {
  return readJsonObject(request, MAX_BODY);
}

function field(doc: Record<string, unknown>, key: string): string {
  const v = doc[key];
  if (typeof v !== "string" || v === "") throw new BadRequestError(`"${key}" must be a non-empty string`);
  return v;
}

/** NDJSON of the changes of `map` (of `key` only, if given); cancelling unsubscribes. */
function watch(map: StateMap, key: string | null): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let off = () => {};
  return new ReadableStream<Uint8Array>({
    start(controller) {
      off = map.subscribe((c: StateChange) => {
        if (key !== null && c.key !== key) return;
        controller.enqueue(encoder.encode(JSON.stringify({ ...c, value: c.value ?? null }) + "\n"));
      });
    },
    cancel() {
      off();
    },
  });
}

/**
 * The `/state` routes over `state`, for `startStatusServer`'s `routes`.
 *
 * @example
 * ```ts
 * import { stateRoutes } from "./state-routes.ts";
 * import { startStatusServer } from "./status-server.ts";
 * declare const node: import("../api/node.ts").Node;
 * declare const http: import("../platform/types.ts").HttpApi;
 * const server = await startStatusServer(node, http, "127.0.0.1", 8080, { routes: [stateRoutes(node.state)] });
 * ```
 */
export function stateRoutes(state: StateApi): Route {
  return async (request, url, context) => {
    const path = url.pathname;
    if (!ROUTES.has(path)) return undefined;
    if (!context.loopback) {
      return json({ error: "state routes are refused: the status server is not bound to loopback" }, 403);
    }
    const method = path === "/state/get" || path === "/state/watch" ? "GET" : "POST";
    if (request.method !== method) {
      return json({ error: `method ${request.method} not allowed on ${path}` }, 405, { allow: method });
    }
    try {
      const q = url.searchParams;
      const doc = method === "POST" ? await body(request) : Object.fromEntries(q);
      const name = field(doc, "name");
      const realm = doc.realm === undefined || doc.realm === "" ? undefined : field(doc, "realm");
      const map = await state.open(name, { realm });
      const where = { realm: map.realm, name };
      if (path === "/state/get") {
        const key = q.get("key");
        if (key === null) return json({ ...where, entries: Object.fromEntries(map.entries()) });
        return json({ ...where, key, found: map.has(key), value: map.get(key) ?? null });
      }
      if (path === "/state/watch") {
        return new Response(watch(map, q.get("key")), {
          headers: { "content-type": "application/x-ndjson; charset=utf-8", "x-macula-realm": map.realm },
        });
      }
      const key = field(doc, "key");
      if (path === "/state/delete") return json({ ...where, key, deleted: map.delete(key) });
      if (!("value" in doc)) throw new BadRequestError('"value" is missing');
      map.set(key, doc.value);
      return json({ ...where, key });
    } catch (error) {
      return failure(error);
    }
  };
}

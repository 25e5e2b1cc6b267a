/**
 * The `/auth` routes of the status server: the node's authorization state,
 * and a way for `macula ucan revoke` to hand the node a revocation.
 *
 * | route | answer |
 * |---|---|
 * | `GET /auth` | realm policies and authorities, chains held, revocations (JSON) |
 * | `POST /auth/revocations` | body: the container text of one revocation invocation; `201 {cid, revokes, revoker}` |
 *
 * The POST is refused with 403 unless the server is bound to loopback. A body
 * that is not a valid revocation is a 400 with the UCAN error's code. The
 * node checks, stores and gossips the revocation (`AuthService.revoke`).
 *
 * @module
 */
import { decodeContainer, Invocation, readRevocation } from "../ucan/mod.ts";
import { MaculaError } from "../util/errors.ts";
import { json, type Route } from "./status-server.ts";

/** What the routes need of the auth service (`AuthService` has it). */
export interface AuthRoutesApi {
  /** Check, store and gossip a revocation. */
  revoke(revocation: Invocation): Promise<void>;
  /** The state shown by `GET /auth`. */
  status(): Record<string, unknown>;
}

/** Largest accepted body, characters (a revocation is far smaller). */
const MAX_BODY = 64 * 1024;

const REFUSED = "revocations are refused: the status server is not bound to loopback (see docs/auth.md)";

function errorResponse(error: unknown, status: number): Response {
  const message = (error instanceof Error ? error.message : String(error)).split("\n")[0];
  return json({ error: message, code: error instanceof MaculaError ? error.code : "E_UNKNOWN" }, status);
}

/**
 * The `/auth` routes over `auth`, for `startStatusServer`'s `routes`.
 *
 * @example
 * ```ts
 * import { authRoutes } from "./auth-routes.ts";
 * import { startStatusServer } from "./status-server.ts";
 * declare const node: import("../node/node.ts").NodeCore;
 * declare const http: import("../platform/types.ts").HttpApi;
 * declare const auth: import("./auth-routes.ts").AuthRoutesApi;
 * const server = await startStatusServer(node, http, "127.0.0.1", 8080, { routes: [authRoutes(auth)] });
 * ```
 */
export function authRoutes(auth: AuthRoutesApi): Route {
  return async (request, url, context) => {
    const path = url.pathname;
    if (path === "/auth") {
      if (request.method !== "GET" && request.method !== "HEAD") {
        return json({ error: `method ${request.method} not allowed on /auth` }, 405, { allow: "GET" });
      }
      return json(auth.status());
    }
    if (path !== "/auth/revocations") return undefined;
    if (request.method !== "POST") {
      return json({ error: `method ${request.method} not allowed on ${path}` }, 405, { allow: "POST" });
    }
    if (!context.loopback) return json({ error: REFUSED, code: "E_FORBIDDEN" }, 403);
    const text = await request.text();
    if (text.length > MAX_BODY) return json({ error: `the body is over ${MAX_BODY} bytes`, code: "E_TOO_LARGE" }, 413);
    let invocation: Invocation;
    let target: { revoker: string; cid: string };
    try {
      const tokens = decodeContainer(text);
      if (tokens.length !== 1) {
        return json({ error: `expected one revocation, got ${tokens.length} tokens`, code: "E_BAD_REQUEST" }, 400);
      }
      invocation = Invocation.decode(tokens[0]);
      target = readRevocation(invocation);
    } catch (error) {
      return errorResponse(error, 400);
    }
    try {
      await auth.revoke(invocation);
    } catch (error) {
      return errorResponse(error, error instanceof MaculaError ? 400 : 500);
    }
    return json({ cid: invocation.id, revokes: target.cid, revoker: target.revoker }, 201);
  };
}

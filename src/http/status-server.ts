/**
 * The node's HTTP interface (loopback by default): `/health`, `/ready`,
 * `/status`, `/peers`, `/metrics`, plus the routes services mount (for
 * example `/content`, see `content-routes.ts`).
 *
 * @module
 */
import type { NodeCore } from "../node/node.ts";
import type { HttpApi, HttpServer, RequestInfo, SocketAddress } from "../platform/types.ts";
import { tokenGate } from "./token-gate.ts";

/** What a mounted route learns about the server it runs in. */
export interface RouteContext {
  /** Whether the server is bound to a loopback address (only local processes can reach it). */
  readonly loopback: boolean;
  /** The client's address, where the platform tells it. */
  readonly remote?: SocketAddress;
}

/**
 * A mounted route: answers the requests it owns, `undefined` for the others
 * (the next route, then the built-in ones, get them).
 */
export type Route = (
  request: Request,
  url: URL,
  context: RouteContext,
) => Response | undefined | Promise<Response | undefined>;

/** Options of `startStatusServer`. */
export interface StatusServerOptions {
  /** Extra routes, asked in order before the built-in endpoints. */
  routes?: Route[];
  /**
   * The console token. Required when the server binds a non-loopback
   * address (or `requireToken` is set): then every route but `/health` and
   * `/ready` needs it (see `token-gate.ts`).
   */
  token?: string;
  /** Require the token even on loopback (tests). */
  requireToken?: boolean;
  /** Where the token is, for the 401 message (e.g. the token file's path). */
  tokenHint?: string;
}

/** Whether a server on `host` with `options` requires the console token. */
export function requiresToken(host: string, options: Pick<StatusServerOptions, "requireToken"> = {}): boolean {
  return options.requireToken === true || !isLoopbackHost(host);
}

/** A JSON response (pretty-printed, newline-terminated). */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body, null, 2) + "\n", {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

/** Whether `host` names this machine's loopback interface. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * Route one request to the built-in endpoints. Exported for tests.
 *
 * @example
 * ```ts
 * import { handleStatusRequest } from "./status-server.ts";
 * declare const node: import("../node/node.ts").NodeCore;
 * const res = handleStatusRequest(node, new Request("http://localhost/health"));
 * res.status; // 200
 * ```
 */
export function handleStatusRequest(node: NodeCore, request: Request): Response {
  const url = new URL(request.url);
  if (request.method !== "GET" && request.method !== "HEAD") {
    return json({ error: "method not allowed" }, 405);
  }
  switch (url.pathname) {
    case "/health":
      return json({ status: "ok" });
    case "/ready":
      return json({ status: "ready" });
    case "/status":
      return json(node.status());
    case "/peers":
      return json(node.peers());
    case "/metrics":
      return new Response(node.metrics.registry.render(), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      });
    default:
      return json({ error: "not found", paths: ["/health", "/ready", "/status", "/peers", "/metrics"] }, 404);
  }
}

/**
 * A request handler: the mounted `routes` first, then the built-in endpoints.
 * A route that throws answers 500 with a one-line JSON error.
 */
export function statusHandler(
  node: NodeCore,
  routes: Route[],
  context: RouteContext,
): (request: Request, info?: RequestInfo) => Promise<Response> {
  return async (request, info) => {
    const url = new URL(request.url);
    const ctx = info ? { ...context, remote: info.remoteAddr } : context;
    for (const route of routes) {
      try {
        const res = await route(request, url, ctx);
        if (res) return res;
      } catch (error) {
        return json({ error: (error as Error).message.split("\n")[0] }, 500);
      }
    }
    return handleStatusRequest(node, request);
  };
}

/**
 * Serve the status endpoints of `node` (and `options.routes`) on `host:port`.
 * On a non-loopback `host` (or with `options.requireToken`) every route but
 * `/health` and `/ready` requires `options.token`; without one it throws
 * `TypeError`.
 *
 * @example
 * ```ts
 * import { startStatusServer } from "./status-server.ts";
 * declare const node: import("../node/node.ts").NodeCore;
 * declare const http: import("../platform/types.ts").HttpApi;
 * const server = await startStatusServer(node, http, "127.0.0.1", 0, {
 *   routes: [(_req, url) => url.pathname === "/hello" ? new Response("hi") : undefined],
 * });
 * await server.close();
 * ```
 */
export function startStatusServer(
  node: NodeCore,
  http: HttpApi,
  host: string,
  port: number,
  options: StatusServerOptions = {},
): Promise<HttpServer> {
  const handler = statusHandler(node, options.routes ?? [], { loopback: isLoopbackHost(host) });
  if (!requiresToken(host, options)) return http.serve({ hostname: host, port }, handler);
  if (!options.token) {
    const why = "every route but /health and /ready requires it";
    return Promise.reject(new TypeError(`a status server on ${host} needs options.token (${why})`));
  }
  const hint = options.tokenHint ?? "ask the node's operator";
  return http.serve({ hostname: host, port }, tokenGate(options.token, hint, handler));
}

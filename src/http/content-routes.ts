/**
 * The `/content` routes of the status server: stream verified content
 * (from the store, or fetched from the mesh on demand) with `Range`
 * support, list it, show transfers, publish, pin, unpin and remove.
 *
 * | route | answer |
 * |---|---|
 * | `GET` / `HEAD /content/<mcid>` | the bytes (200, or 206 with `Range: bytes=a-b`; 416 on a bad range) |
 * | `GET /content` | the stored entries, JSON |
 * | `GET /content/transfers` | downloads in progress, JSON |
 * | `POST /content[?pin=1][&name=NAME]` | publish the body (under NAME, see `PublishOptions.name`); `201 {mcid, size}` |
 * | `PUT` / `DELETE /content/<mcid>/pin` | pin / unpin |
 * | `DELETE /content/<mcid>` | remove |
 *
 * Changes (POST, PUT, DELETE) are refused with 403 unless the server is
 * bound to loopback. Errors are one-line JSON: `{"error": "…"}`.
 *
 * @module
 */
import {
  ContentNotFoundError,
  InvalidContentNameError,
  InvalidMcidError,
  QuotaExceededError,
} from "../content/errors.ts";
import { Mcid } from "../content/mcid.ts";
import type { StoredContent } from "../content/store.ts";
import { parseRange } from "./content-range.ts";
import { json, type Route } from "./status-server.ts";
import type { Logger } from "../log/logger.ts";

/** What the routes need of the content service (`ContentService` has it). */
export interface ContentApi {
  publish(source: ReadableStream<Uint8Array> | Uint8Array, options?: { pin?: boolean; name?: string }): Promise<Mcid>;
  fetch(mcid: Mcid, options?: { signal?: AbortSignal; start?: number; end?: number }): ReadableStream<Uint8Array>;
  get(mcid: Mcid): StoredContent | undefined;
  list(): StoredContent[];
  pin(mcid: Mcid): Promise<boolean>;
  unpin(mcid: Mcid): Promise<boolean>;
  remove(mcid: Mcid): Promise<boolean>;
  transfers(): ReadonlyArray<unknown>;
  /** The names the content was published under (`PublishOptions.name`), if the service keeps them. */
  names?(mcid: Mcid): string[];
}

/** The JSON form of a stored entry (`GET /content`). */
export interface ContentEntryJson {
  mcid: string;
  size: number;
  bytes: number;
  complete: boolean;
  pinned: boolean;
  /** The names it was published under (only when it has some). */
  names?: string[];
  lastUsed: string;
}

function entryJson(e: StoredContent, names: string[] = []): ContentEntryJson {
  return {
    mcid: e.mcid.toString(),
    size: e.mcid.size,
    bytes: e.bytes,
    complete: e.complete,
    pinned: e.pinned,
    lastUsed: new Date(e.lastUsed).toISOString(),
    ...(names.length > 0 ? { names } : {}),
  };
}

function errorResponse(error: unknown): Response {
  const message = (error instanceof Error ? error.message : String(error)).split("\n")[0];
  const status = error instanceof InvalidMcidError || error instanceof InvalidContentNameError
    ? 400
    : error instanceof ContentNotFoundError
    ? 404
    : error instanceof QuotaExceededError
    ? 507
    : 500;
  return json({ error: message }, status);
}

function parseMcid(text: string): Mcid | Response {
  try {
    return Mcid.parse(decodeURIComponent(text));
  } catch (error) {
    return json({ error: `invalid content id: ${(error as Error).message}` }, 400);
  }
}

const REFUSED = "content changes are refused: the status server is not bound to loopback (see docs/content.md)";

/**
 * Stream `mcid` (or the byte range of `request`). The first chunk is awaited
 * before answering, so "nobody has it" is a 404 rather than a cut body;
 * a failure later cuts the body short (the Content-Length tells the client).
 */
async function serveContent(content: ContentApi, mcid: Mcid, request: Request, log?: Logger): Promise<Response> {
  const size = mcid.size;
  const range = parseRange(request.headers.get("range"), size);
  const headers: Record<string, string> = {
    "accept-ranges": "bytes",
    "content-type": "application/octet-stream",
    "etag": `"${mcid}"`,
    "cache-control": "public, max-age=31536000, immutable",
  };
  if (range === "unsatisfiable") {
    return json(
      { error: `range ${JSON.stringify(request.headers.get("range"))} not satisfiable for ${size} bytes` },
      416,
      {
        "content-range": `bytes */${size}`,
      },
    );
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? size;
  headers["content-length"] = String(end - start);
  if (range) headers["content-range"] = `bytes ${start}-${end - 1}/${size}`;
  const status = range ? 206 : 200;
  if (request.method === "HEAD") {
    headers["x-macula-local"] = content.get(mcid)?.complete ? "1" : "0";
    return new Response(null, { status, headers });
  }
  // No request.signal: the runtime's HTTP server aborts it once a response is delivered (legacy behaviour); a client that
  // goes away cancels the body instead, and the cancel reaches the service's stream.
  const stream = content.fetch(mcid, { start, end });
  const reader = stream.getReader();
  let first: ReadableStreamReadResult<Uint8Array>;
  try {
    first = await reader.read();
  } catch (error) {
    reader.releaseLock();
    stream.cancel().catch(() => {});
    return errorResponse(error);
  }
  let pending: Uint8Array | undefined = first.done ? undefined : first.value;
  let finished = first.done;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (pending) {
        controller.enqueue(pending);
        pending = undefined;
        return;
      }
      if (finished) return controller.close();
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await reader.read();
      } catch (error) {
        log?.warn("content stream cut short", {
          mcid: mcid.toString(),
          error: (error instanceof Error ? error.message : String(error)).split("\n")[0],
        });
        throw error;
      }
      if (next.done) {
        finished = true;
        controller.close();
      } else {
        controller.enqueue(next.value);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
  return new Response(body, { status, headers });
}

/**
 * The `/content` routes over `content`, for `startStatusServer`'s `routes`.
 *
 * @example
 * ```ts
 * import { contentRoutes } from "./content-routes.ts";
 * import { startStatusServer } from "./status-server.ts";
 * declare const node: import("../node/node.ts").NodeCore;
 * declare const http: import("../platform/types.ts").HttpApi;
 * declare const content: import("./content-routes.ts").ContentApi;
 * const server = await startStatusServer(node, http, "127.0.0.1", 8080, { routes: [contentRoutes(content)] });
 * ```
 */
export function contentRoutes(content: ContentApi, options: { log?: Logger } = {}): Route {
  return async (request, url, context) => {
    const path = url.pathname;
    if (path !== "/content" && !path.startsWith("/content/")) return undefined;
    const method = request.method;
    const parts = path.split("/").slice(2); // after "/content"
    const mutating = method !== "GET" && method !== "HEAD";
    if (mutating && !context.loopback) return json({ error: REFUSED }, 403);
    try {
      if (parts.length === 0 || (parts.length === 1 && parts[0] === "")) {
        if (method === "GET" || method === "HEAD") {
          return json(content.list().map((e) => entryJson(e, content.names?.(e.mcid))));
        }
        if (method === "POST") {
          const pin = ["1", "true", "yes"].includes(url.searchParams.get("pin") ?? "");
          const name = url.searchParams.get("name") ?? undefined;
          const mcid = await content.publish(request.body ?? new Uint8Array(0), { pin, name });
          return json({ mcid: mcid.toString(), size: mcid.size, pinned: pin, ...(name ? { names: [name] } : {}) }, 201);
        }
        return json({ error: `method ${method} not allowed on /content` }, 405, { allow: "GET, HEAD, POST" });
      }
      if (parts.length === 1 && parts[0] === "transfers") {
        if (method !== "GET" && method !== "HEAD") return json({ error: "method not allowed" }, 405, { allow: "GET" });
        return json(content.transfers());
      }
      const mcid = parseMcid(parts[0]);
      if (mcid instanceof Response) return mcid;
      const missing = () => json({ error: `content ${mcid} is not stored on this node` }, 404);
      if (parts.length === 1) {
        if (method === "GET" || method === "HEAD") return await serveContent(content, mcid, request, options.log);
        if (method === "DELETE") {
          return (await content.remove(mcid)) ? json({ mcid: String(mcid), removed: true }) : missing();
        }
        return json({ error: `method ${method} not allowed` }, 405, { allow: "GET, HEAD, DELETE" });
      }
      if (parts.length === 2 && parts[1] === "pin") {
        if (method === "PUT") return (await content.pin(mcid)) ? json({ mcid: String(mcid), pinned: true }) : missing();
        if (method === "DELETE") {
          return (await content.unpin(mcid)) ? json({ mcid: String(mcid), pinned: false }) : missing();
        }
        return json({ error: `method ${method} not allowed` }, 405, { allow: "PUT, DELETE" });
      }
      return json({ error: `not found: ${path}` }, 404);
    } catch (error) {
      return errorResponse(error);
    }
  };
}

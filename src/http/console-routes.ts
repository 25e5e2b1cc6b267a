/**
 * The web console on the status port: `GET /` redirects to `/console`, the
 * page and its assets (embedded, gzip), `GET /console/events` (the SSE
 * snapshot stream), `GET /console/snapshot` (one snapshot as JSON) and
 * `POST /console/actions/{ping,publish,call}`. The token rule is the status
 * server's (applied before any route).
 *
 * @module
 */
import type { Node } from "../api/node.ts";
import { readConsoleAction, runConsoleAction } from "../console/actions.ts";
import { ConsoleActionError } from "../console/actions.ts";
import type { ConsoleAsset } from "../console/asset.ts";
import { CONSOLE_ASSETS } from "../console/assets.gen.ts";
import { ConsoleEventStream } from "../console/event-stream.ts";
import { SeriesSampler } from "../console/series.ts";
import { SnapshotBuilder } from "../console/snapshot.ts";
import type { Logger } from "../log/logger.ts";
import { currentPlatform } from "../platform/current.ts";
import { fromBase64 } from "../util/bytes.ts";
import { json, type Route } from "./status-server.ts";

/** Options of `consoleRoutes`. */
export interface ConsoleRoutesOptions {
  /** Turn actions off (`--console-readonly`). */
  readonly?: boolean;
  /** Between snapshots on the event stream, ms (default 1000). */
  interval?: number;
  /** Event-stream clients at once (default 16). */
  maxClients?: number;
  /** How long a disconnected peer stays in snapshots, ms (default 60 000). */
  keepDisconnected?: number;
  /** The page's files by URL path (default: the embedded build). */
  assets?: Readonly<Record<string, ConsoleAsset>>;
  /** The process's RSS in bytes (default: the current platform's reading). */
  rss?: () => number;
  /**
   * `"always"` (the default) samples the charts' series every second from
   * the start; `"on-demand"` only while the console is watched (and 60 s
   * after).
   */
  sampling?: "always" | "on-demand";
  /** Where failures of the stream are logged. */
  log?: Logger;
}

/** The console's route and what it runs (stop it with `close`). */
export interface ConsoleRoutes {
  /** The route to mount in `startStatusServer`'s `routes`. */
  route: Route;
  /** The SSE stream (clients, ticking). */
  events: ConsoleEventStream;
  /** The snapshot builder. */
  snapshots: SnapshotBuilder;
  /** The series sampler. */
  sampler: SeriesSampler;
  /** End the event streams and stop the sampler. */
  close(): void;
}

interface Served {
  gzip: Uint8Array<ArrayBuffer>;
  type: string;
  etag: string;
}

/** FNV-1a of a string, hex: an etag for an embedded asset. */
function fnv(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}

function serveAsset(request: Request, asset: Served): Response {
  const headers: Record<string, string> = {
    "content-type": asset.type,
    "cache-control": "no-cache",
    etag: asset.etag,
    vary: "accept-encoding",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
  };
  if (request.headers.get("if-none-match") === asset.etag) return new Response(null, { status: 304, headers });
  const body = request.method === "HEAD" ? null : asset.gzip;
  if (/\bgzip\b/i.test(request.headers.get("accept-encoding") ?? "")) {
    return new Response(body, { headers: { ...headers, "content-encoding": "gzip" } });
  }
  if (!body) return new Response(null, { headers });
  const plain = new Blob([body]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Response(plain, { headers });
}

/**
 * The console's routes for `node`.
 *
 * @example
 * ```ts
 * import { consoleRoutes } from "./console-routes.ts";
 * import { startStatusServer } from "./status-server.ts";
 * declare const node: import("../api/node.ts").Node;
 * declare const http: import("../platform/types.ts").HttpApi;
 * const console = consoleRoutes(node, { readonly: true });
 * const server = await startStatusServer(node, http, "127.0.0.1", 8080, { routes: [console.route] });
 * // … later
 * console.close();
 * await server.close();
 * ```
 */
export function consoleRoutes(node: Node, options: ConsoleRoutesOptions = {}): ConsoleRoutes {
  const readonly = options.readonly ?? false;
  const rss = options.rss ?? (() => currentPlatform().process.memory().rss);
  const onDemand = options.sampling === "on-demand";
  const sampler = new SeriesSampler({ metrics: node.metrics.registry, rss, idleStop: onDemand ? 60_000 : undefined });
  if (!onDemand) sampler.start();
  const snapshots = new SnapshotBuilder(node, {
    readonly,
    keepDisconnected: options.keepDisconnected,
    series: () => {
      if (onDemand) sampler.touch();
      return sampler.series();
    },
  });
  const events = new ConsoleEventStream({
    snapshot: () => snapshots.take(),
    interval: options.interval,
    maxClients: options.maxClients,
    onError: (error) => options.log?.warn("console snapshot failed", { error: String(error) }),
  });
  const assets = new Map<string, Served>();
  for (const [path, a] of Object.entries(options.assets ?? CONSOLE_ASSETS)) {
    assets.set(path, { gzip: fromBase64(a.gzip) as Uint8Array<ArrayBuffer>, type: a.type, etag: `"${fnv(a.gzip)}"` });
  }
  const route: Route = async (request, url) => {
    const path = url.pathname;
    if (path !== "/" && path !== "/console" && !path.startsWith("/console/")) return undefined;
    const get = request.method === "GET" || request.method === "HEAD";
    if (path.startsWith("/console/actions/")) {
      try {
        const action = await readConsoleAction(request, path.slice("/console/actions/".length), readonly);
        const { status, body } = await runConsoleAction(node, action);
        return json(body, status);
      } catch (error) {
        if (!(error instanceof ConsoleActionError)) throw error;
        return json({ ok: false, error: error.message, code: error.code }, error.status);
      }
    }
    if (!get) return json({ error: "method not allowed", code: "E_METHOD" }, 405, { allow: "GET, HEAD" });
    if (path === "/") return new Response(null, { status: 302, headers: { location: "/console" } });
    if (path === "/console/events") return events.response(request);
    if (path === "/console/snapshot") return json(snapshots.take(), 200, { "cache-control": "no-store" });
    const asset = assets.get(path === "/console" || path === "/console/" ? "/console/index.html" : path);
    if (asset) return serveAsset(request, asset);
    return json({ error: `no console file ${path.slice(0, 80)}`, code: "E_NOT_FOUND" }, 404);
  };
  return {
    route,
    events,
    snapshots,
    sampler,
    close() {
      events.close();
      sampler.stop();
    },
  };
}

/**
 * The `/registry` routes of the status server (what `macula registry` uses).
 *
 * | route | answer |
 * |---|---|
 * | `GET /registry/<name>` | the verified releases, highest version first, JSON |
 * | `GET /registry/<name>/<version>[?arch=A]` | one release (`latest` = the highest) |
 * | `POST /registry/<name>?version=V[&arch=A][&notes=N]` | publish the body; `201` the release |
 * | `POST /registry/<name>/install?dir=D[&version=V][&arch=A][&file=F]` | install; `{path, release}` |
 * | `POST /registry/self-update[?channel=C]` | update this node's binary (when the server was given `selfUpdate`) |
 *
 * Changes (POST) are refused with 403 unless the server is bound to
 * loopback. Errors are `{"error": "…", "code": "E_…"}`.
 *
 * @module
 */
import { isNamespace } from "../auth/namespace.ts";
import type { Installed, PublishRelease, ReleaseQuery } from "../registry/registry-service.ts";
import { type Release, releaseJson } from "../registry/release.ts";
import { MaculaError } from "../util/errors.ts";
import { json, type Route } from "./status-server.ts";

/** What the routes need of the registry (`RegistryService` has it). */
export interface RegistryApi {
  publish(source: ReadableStream<Uint8Array> | Uint8Array, release: PublishRelease): Promise<Release>;
  list(name: string): Promise<Release[]>;
  info(name: string, query?: ReleaseQuery): Promise<Release>;
  install(name: string, options: ReleaseQuery & { dir?: string; file?: string }): Promise<Installed>;
}

const STATUS: Record<string, number> = {
  E_RELEASE_NOT_FOUND: 404,
  E_RELEASE_INVALID: 400,
  E_NAMESPACE_INVALID: 400,
  E_RELEASE_SIGNATURE: 422,
  E_RELEASE_UNAUTHORIZED: 403,
  E_RELEASE_CONTENT: 422,
  E_RELEASE_INSTALL: 500,
  E_SELF_UPDATE_HEALTH: 422,
  E_SELF_UPDATE_ROLLED_BACK: 500,
  E_SELF_UPDATE_UNSUPPORTED: 501,
  E_SELF_UPDATE_CHANNEL: 400,
};

function fail(error: unknown): Response {
  if (error instanceof MaculaError) return json({ error: error.message, code: error.code }, STATUS[error.code] ?? 502);
  return json({ error: String((error as Error)?.message ?? error).split("\n")[0], code: "E_REGISTRY" }, 500);
}

function param(url: URL, key: string): string | undefined {
  return url.searchParams.get(key) ?? undefined;
}

/**
 * The routes over `registry`.
 *
 * @example
 * ```ts
 * import { registryRoutes } from "./registry-routes.ts";
 * declare const registry: import("./registry-routes.ts").RegistryApi;
 * const route = registryRoutes(registry); // mount with startStatusServer(…, { routes: [route] })
 * ```
 */
export function registryRoutes(
  registry: RegistryApi,
  options: { selfUpdate?: (channel: string) => Promise<unknown> } = {},
): Route {
  return async (request, url, context) => {
    const parts = url.pathname.split("/").slice(1);
    if (parts[0] !== "registry") return undefined;
    if (parts[1] === "self-update" && parts.length === 2) {
      if (request.method !== "POST") return json({ error: "use POST", code: "E_METHOD" }, 405);
      if (!context.loopback) {
        return json({ error: "self-update is accepted on loopback only", code: "E_FORBIDDEN" }, 403);
      }
      if (!options.selfUpdate) return json({ error: "this server does not self-update", code: "E_SELF_UPDATE" }, 501);
      try {
        return json(await options.selfUpdate(param(url, "channel") ?? "stable"));
      } catch (error) {
        return fail(error);
      }
    }
    const [, name, second] = parts.map(decodeURIComponent);
    if (!name || !isNamespace(name) || parts.length > 3) {
      return json({ error: "use /registry/<name>[/<version>|/install]", code: "E_RELEASE_INVALID" }, 400);
    }
    const method = request.method;
    if (method === "POST" && !context.loopback) {
      return json({ error: "changes are accepted on a loopback status port only", code: "E_FORBIDDEN" }, 403);
    }
    try {
      if (method === "GET" && second === undefined) return json((await registry.list(name)).map(releaseJson));
      if (method === "GET") {
        const version = second === "latest" ? undefined : second;
        return json(releaseJson(await registry.info(name, { version, arch: param(url, "arch") })));
      }
      if (method === "POST" && second === undefined) {
        const version = param(url, "version");
        if (!version) return json({ error: "publishing needs ?version=", code: "E_RELEASE_INVALID" }, 400);
        const release = await registry.publish(request.body ?? new Uint8Array(0), {
          name,
          version,
          arch: param(url, "arch"),
          notes: param(url, "notes"),
        });
        return json(releaseJson(release), 201);
      }
      if (method === "POST" && second === "install") {
        const done = await registry.install(name, {
          dir: param(url, "dir"),
          file: param(url, "file"),
          version: param(url, "version"),
          arch: param(url, "arch"),
        });
        return json({ path: done.path, release: releaseJson(done.release) });
      }
      return json({ error: `method ${method} not allowed here`, code: "E_METHOD" }, 405);
    } catch (error) {
      return fail(error);
    }
  };
}

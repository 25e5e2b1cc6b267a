/**
 * Requests to the node running on this machine, on its status port
 * (`HEALTH_PORT`, `MACULA_HEALTH_HOST`, `--health-port`, `--health-host`).
 *
 * @module
 */
import type { Platform } from "../../platform/types.ts";
import { MaculaError } from "../../util/errors.ts";
import { readEnv, resolveStartConfig } from "../config.ts";

/** The node's base URL from flags and env; a wildcard host means loopback. */
export function localNodeUrl(
  flags: { "health-port"?: string; "health-host"?: string },
  platform: Platform,
): string {
  const env = readEnv((n) => n === "HEALTH_PORT" || n === "MACULA_HEALTH_HOST" ? platform.process.env(n) : undefined);
  const cfg = resolveStartConfig(env, { "health-port": flags["health-port"], "health-host": flags["health-host"] });
  const host = cfg.healthHost === "0.0.0.0" ? "127.0.0.1" : cfg.healthHost === "::" ? "::1" : cfg.healthHost;
  return `http://${host.includes(":") ? `[${host}]` : host}:${cfg.healthPort}`;
}

/** No node answers on the status port. */
export class NoLocalNodeError extends MaculaError {
  /** `base` is the URL asked; `reason` what went wrong. */
  constructor(base: string, reason: string) {
    super("E_NO_NODE", `no node answered at ${base} (${reason}); is "macula start" running with this --health-port?`);
  }
}

/**
 * A request to the local node. No answer is a `NoLocalNodeError`; an error
 * answer a `MaculaError` with the node's one-line message and its `code`
 * (`fallbackCode(status)` when the body names none).
 */
export async function localNodeRequest(
  base: string,
  path: string,
  init: RequestInit,
  platform: Platform,
  fallbackCode: (status: number) => string = (status) => `E_HTTP_${status}`,
): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(base + path, init);
  } catch (error) {
    if (platform.permissionDenied(error)) throw error;
    throw new NoLocalNodeError(base, (error as Error).message.split("\n")[0]);
  }
  if (!res.ok) {
    let message = `HTTP ${res.status}`;
    let code = fallbackCode(res.status);
    try {
      const body = await res.json() as { error?: string; code?: string };
      if (body.error) message = body.error;
      if (typeof body.code === "string" && /^E_[A-Z0-9_]{1,40}$/.test(body.code)) code = body.code;
    } catch { /* not JSON */ }
    throw new MaculaError(code, message);
  }
  return res;
}

/**
 * Follow a JSON-lines stream of the local node (`GET base + path`): print
 * `banner(response)` to stderr, then each line to stdout until `count`
 * lines, the end of the stream, or a shutdown signal (all exit 0).
 */
export async function followLocalNode(
  base: string,
  path: string,
  count: number,
  platform: Platform,
  banner: (response: Response) => string,
): Promise<number> {
  const abort = new AbortController();
  const off = platform.process.onShutdownSignal(() => abort.abort());
  try {
    const res = await localNodeRequest(base, path, { signal: abort.signal }, platform);
    platform.process.stderr(banner(res));
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let seen = 0, buffer = "";
    try {
      while (seen < count) {
        const next = await reader.read();
        if (next.done) break;
        buffer += next.value;
        let nl;
        while (seen < count && (nl = buffer.indexOf("\n")) >= 0) {
          platform.process.stdout(buffer.slice(0, nl + 1));
          buffer = buffer.slice(nl + 1);
          seen++;
        }
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
    return 0;
  } catch (error) {
    if (abort.signal.aborted) return 0;
    throw error;
  } finally {
    off();
  }
}

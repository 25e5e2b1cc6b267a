/**
 * `macula status` and `macula peers`: query the local node's HTTP interface.
 *
 * @module
 */
import type { Platform } from "../../platform/types.ts";
import { MaculaError } from "../../util/errors.ts";
import { parse } from "../args.ts";
import { readEnv, resolveStartConfig } from "../config.ts";
import { HELP } from "../help.ts";

/**
 * GET `path` from the node's HTTP interface on this machine. Throws a clear
 * `MaculaError` when no node answers (permission errors pass through).
 */
export async function fetchLocalNode(
  path: string,
  healthHost: string,
  healthPort: number,
  platform: Platform,
): Promise<unknown> {
  const host = healthHost.includes(":") ? `[${healthHost}]` : healthHost;
  const url = `http://${host}:${healthPort}${path}`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return await res.json();
  } catch (error) {
    if (platform.permissionDenied(error)) throw error;
    throw new MaculaError(
      "E_NO_NODE",
      `no node answered at ${url} (${
        (error as Error).message.split("\n")[0]
      }); is "macula start" running with this --health-port?`,
    );
  }
}

/** Run `macula status` or `macula peers`. */
export async function query(what: "status" | "peers", args: string[], platform: Platform): Promise<number> {
  const flags = parse<{ help?: boolean; json?: boolean; "health-port"?: string; "health-host"?: string }>(args, {
    "health-port": { type: "string" },
    "health-host": { type: "string" },
    json: { type: "boolean" },
  });
  if (flags.help) return platform.process.stdout(HELP[what] + "\n"), 0;
  const env = readEnv((n) => n === "HEALTH_PORT" || n === "MACULA_HEALTH_HOST" ? platform.process.env(n) : undefined);
  const cfg = resolveStartConfig(env, { "health-port": flags["health-port"], "health-host": flags["health-host"] });
  const body = await fetchLocalNode(`/${what}`, cfg.healthHost, cfg.healthPort, platform);
  const out = (text: string) => platform.process.stdout(text + "\n");
  if (flags.json) {
    out(JSON.stringify(body, null, 2));
  } else if (what === "status") {
    const s = body as Record<string, unknown>;
    out(
      `id       ${s.id}\nrealm    ${s.realm}\nversion  ${s.version}\nruntime  ${s.runtime}\nuptime   ${s.uptime} s\npeers    ${s.peers}`,
    );
    for (const a of (s.addrs as string[]) ?? []) out(`addr     ${a}`);
    const relays = (s["relay-client"] as { relays?: Array<Record<string, string>> } | undefined)?.relays ?? [];
    for (const r of relays) out(`relay    ${r.relay}  ${r.state}${r.expires ? `  until ${r.expires}` : ""}`);
  } else {
    const peers = body as Array<Record<string, unknown>>;
    if (peers.length === 0) out("no connected peers");
    for (const p of peers) {
      const rtt = typeof p.rtt === "number" ? `${p.rtt.toFixed(2)} ms` : "-";
      const route = p.route === "relayed" ? `relayed via ${p.relay ?? "?"}` : "direct";
      out(`${p.id}  ${p.transport}  ${p.direction}  ${route}  ${p.address}  rtt ${rtt}`);
    }
  }
  return 0;
}

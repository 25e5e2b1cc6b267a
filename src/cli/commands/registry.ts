/**
 * `macula registry publish|list|info|install`: signed artifact releases,
 * through the node running on this machine (its `/registry` routes).
 *
 * @module
 */
import { publishSource } from "./content.ts";
import type { ReleaseJson } from "../../registry/release.ts";
import type { Platform } from "../../platform/types.ts";
import { parseWithPositionals, UsageError } from "../args.ts";
import { REGISTRY_HELP } from "../help-registry.ts";
import { localNodeRequest, localNodeUrl } from "./local-node.ts";

interface RegistryFlags {
  help?: boolean;
  "health-port"?: string;
  "health-host"?: string;
  json?: boolean;
  name?: string;
  version?: string;
  arch?: string;
  notes?: string;
  dir?: string;
  file?: string;
}

/** `NAME[@VERSION]` split. */
export function parseSpec(spec: string | undefined, command: string): { name: string; version?: string } {
  if (!spec) throw new UsageError(`macula registry ${command} needs NAME[@VERSION]`);
  const at = spec.indexOf("@");
  return at < 0 ? { name: spec } : { name: spec.slice(0, at), version: spec.slice(at + 1) || undefined };
}

function line(r: ReleaseJson): string {
  return `${r.name}@${r.version}  ${r.arch}  ${r.size} B  ${r.mcid}  ${r.issued}  by ${r.issuer}`;
}

/** Run `macula registry`. */
export async function registry(args: string[], platform: Platform): Promise<number> {
  const [sub, ...rest] = args;
  const out = (text: string) => platform.process.stdout(text + "\n");
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") return out(REGISTRY_HELP.registry), 0;
  if (!["publish", "list", "info", "install"].includes(sub)) {
    throw new UsageError(`unknown registry command ${JSON.stringify(sub)}; run "macula registry --help"`);
  }
  const { values: flags, positionals } = parseWithPositionals<RegistryFlags>(rest, {
    "health-port": { type: "string" },
    "health-host": { type: "string" },
    json: { type: "boolean" },
    arch: { type: "string" },
    ...(sub === "publish" ? { name: { type: "string" }, version: { type: "string" }, notes: { type: "string" } } : {}),
    ...(sub === "install" ? { dir: { type: "string" }, file: { type: "string" } } : {}),
  }, 1);
  if (flags.help) return out(REGISTRY_HELP[sub]), 0;
  const base = localNodeUrl(flags, platform);
  const call = (path: string, init: RequestInit = {}) => localNodeRequest(base, path, init, platform);
  const query = (entries: Record<string, string | undefined>) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(entries)) if (v !== undefined) q.set(k, v);
    return q.size ? `?${q}` : "";
  };
  switch (sub) {
    case "publish": {
      const file = positionals[0];
      if (file === undefined) throw new UsageError("macula registry publish needs a FILE (or - for stdin)");
      if (!flags.name || !flags.version) throw new UsageError("macula registry publish needs --name and --version");
      const body = await publishSource(file, platform, "macula registry publish --name N --version V");
      const res = await call(
        `/registry/${encodeURIComponent(flags.name)}${
          query({ version: flags.version, arch: flags.arch, notes: flags.notes })
        }`,
        {
          method: "POST",
          body,
          headers: { "content-type": "application/octet-stream" },
          duplex: "half",
        } as RequestInit,
      );
      const r = await res.json() as ReleaseJson;
      out(flags.json ? JSON.stringify(r) : `published ${line(r)}`);
      return 0;
    }
    case "list": {
      const { name } = parseSpec(positionals[0], "list");
      const list = await (await call(`/registry/${encodeURIComponent(name)}`)).json() as ReleaseJson[];
      if (flags.json) out(JSON.stringify(list));
      else if (list.length === 0) out(`no releases of ${name}`);
      else for (const r of list) out(line(r));
      return 0;
    }
    case "info": {
      const { name, version } = parseSpec(positionals[0], "info");
      const res = await call(
        `/registry/${encodeURIComponent(name)}/${version ?? "latest"}${query({ arch: flags.arch })}`,
      );
      const r = await res.json() as ReleaseJson;
      out(flags.json ? JSON.stringify(r) : JSON.stringify(r, null, 2));
      return 0;
    }
    default: {
      const { name, version } = parseSpec(positionals[0], "install");
      const dir = flags.dir === undefined ? undefined : platform.fs.resolve(flags.dir);
      const res = await call(
        `/registry/${encodeURIComponent(name)}/install${query({ version, arch: flags.arch, dir, file: flags.file })}`,
        { method: "POST" },
      );
      const done = await res.json() as { path: string; release: ReleaseJson };
      out(flags.json ? JSON.stringify(done) : `installed ${done.release.name}@${done.release.version} at ${done.path}`);
      return 0;
    }
  }
}

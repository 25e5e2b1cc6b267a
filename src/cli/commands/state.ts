/**
 * `macula state get|set|delete|watch NAME [KEY] [JSON]`: the replicated maps
 * of the node running on this machine, through its status port.
 *
 * @module
 */
import type { Platform } from "../../platform/types.ts";
import { parseWithPositionals, UsageError } from "../args.ts";
import { STATE_HELP } from "../help-state.ts";
import { jsonArgument, positiveInt } from "./client.ts";
import { followLocalNode, localNodeRequest, localNodeUrl } from "./local-node.ts";

interface StateFlags {
  help?: boolean;
  realm?: string;
  count?: string;
  "health-port"?: string;
  "health-host"?: string;
}

const FLAGS = {
  help: { type: "boolean" as const, short: "h" },
  realm: { type: "string" as const },
  count: { type: "string" as const },
  "health-port": { type: "string" as const },
  "health-host": { type: "string" as const },
};

const USAGE = 'usage: macula state get|set|delete|watch NAME [KEY] [JSON] (run "macula state --help")';

const post = (doc: unknown): RequestInit => ({
  method: "POST",
  body: JSON.stringify(doc),
  headers: { "content-type": "application/json" },
});

/** Run `macula state`. */
export async function state(args: string[], platform: Platform): Promise<number> {
  const { values: flags, positionals } = parseWithPositionals<StateFlags>(args, FLAGS, 4);
  const out = (doc: unknown) => platform.process.stdout(JSON.stringify(doc) + "\n");
  if (flags.help || positionals.length === 0) return platform.process.stdout(STATE_HELP.state + "\n"), 0;
  const [verb, name, key, json] = positionals;
  if (!name) throw new UsageError(`missing NAME; ${USAGE}`);
  const base = localNodeUrl(flags, platform);
  const realm = flags.realm;
  switch (verb) {
    case "get": {
      const query = new URLSearchParams({ name });
      if (key !== undefined) query.set("key", key);
      if (realm) query.set("realm", realm);
      const answer = await (await localNodeRequest(base, `/state/get?${query}`, {}, platform)).json();
      out(key === undefined ? { entries: answer.entries } : { key, found: answer.found, value: answer.value });
      return 0;
    }
    case "set": {
      if (key === undefined) throw new UsageError(`missing KEY; ${USAGE}`);
      const value = jsonArgument(json, "the value");
      await localNodeRequest(base, "/state/set", post({ name, key, value, realm }), platform);
      out({ key, value });
      return 0;
    }
    case "delete": {
      if (key === undefined) throw new UsageError(`missing KEY; ${USAGE}`);
      const answer = await (await localNodeRequest(base, "/state/delete", post({ name, key, realm }), platform)).json();
      out({ key, deleted: answer.deleted });
      return 0;
    }
    case "watch":
      return await watch(base, name, key, realm, positiveInt(flags.count, "--count", Infinity), platform);
    default:
      throw new UsageError(`unknown state command ${JSON.stringify(verb)}; ${USAGE}`);
  }
}

function watch(
  base: string,
  name: string,
  key: string | undefined,
  realm: string | undefined,
  count: number,
  platform: Platform,
): Promise<number> {
  const query = new URLSearchParams({ name });
  if (key !== undefined) query.set("key", key);
  if (realm) query.set("realm", realm);
  return followLocalNode(
    base,
    `/state/watch?${query}`,
    count,
    platform,
    (res) => `macula: watching state ${name} in realm ${res.headers.get("x-macula-realm")}\n`,
  );
}

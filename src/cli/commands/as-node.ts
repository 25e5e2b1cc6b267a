/**
 * `macula pub|sub|call --as-node`: publish, subscribe and call through the
 * node running on this machine (its status port, loopback only), with its
 * identity and capabilities, instead of a short-lived node of its own. In a
 * closed realm that is how an operator acts with the node's tokens.
 *
 * @module
 */
import type { Platform } from "../../platform/types.ts";
import { UsageError } from "../args.ts";
import type { ClientFlags } from "./client.ts";
import { followLocalNode, localNodeRequest, localNodeUrl } from "./local-node.ts";

/** The flag that selects this mode. */
export const AS_NODE_FLAG = { "as-node": { type: "boolean" as const } };

function check(flags: ClientFlags): void {
  const joins = ["seed", "host", "port"] as const;
  const given = joins.find((f) => flags[f] !== undefined);
  if (given) throw new UsageError(`--as-node acts through the local node; --${given} does not apply`);
}

const post = (doc: unknown): RequestInit => ({
  method: "POST",
  body: JSON.stringify(doc),
  headers: { "content-type": "application/json" },
});

/** Publish through the local node; prints `{topic, realm, subscribers}`. */
export async function publishAsNode(
  flags: ClientFlags,
  topic: string,
  payload: unknown,
  platform: Platform,
): Promise<number> {
  check(flags);
  const res = await localNodeRequest(
    localNodeUrl(flags, platform),
    "/pubsub/publish",
    post({ topic, payload, realm: flags.realm }),
    platform,
  );
  const answer = await res.json() as { topic: string; realm: string; subscribers: number };
  platform.process.stdout(
    JSON.stringify({ topic: answer.topic, realm: answer.realm, subscribers: answer.subscribers }) + "\n",
  );
  return 0;
}

/** Subscribe through the local node; one JSON line per message until a signal or `count` messages. */
export function subscribeAsNode(
  flags: ClientFlags,
  pattern: string,
  count: number,
  platform: Platform,
): Promise<number> {
  check(flags);
  const query = new URLSearchParams({ pattern });
  if (flags.realm) query.set("realm", flags.realm);
  return followLocalNode(
    localNodeUrl(flags, platform),
    `/pubsub/subscribe?${query}`,
    count,
    platform,
    (res) => `macula: subscribed to ${pattern} in realm ${res.headers.get("x-macula-realm")} as the local node\n`,
  );
}

/** Call through the local node; prints the result as JSON. */
export async function callAsNode(
  flags: ClientFlags,
  procedure: string,
  args: unknown,
  timeout: number,
  platform: Platform,
): Promise<number> {
  check(flags);
  const res = await localNodeRequest(
    localNodeUrl(flags, platform),
    "/rpc/call",
    post({ procedure, args, realm: flags.realm, timeout }),
    platform,
  );
  const answer = await res.json() as { result: unknown };
  platform.process.stdout(JSON.stringify(answer.result ?? null) + "\n");
  return 0;
}

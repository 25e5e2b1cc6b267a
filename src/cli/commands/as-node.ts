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
import { localNodeRequest, localNodeUrl } from "./local-node.ts";

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
export async function subscribeAsNode(
  flags: ClientFlags,
  pattern: string,
  count: number,
  platform: Platform,
): Promise<number> {
  check(flags);
  const query = new URLSearchParams({ pattern });
  if (flags.realm) query.set("realm", flags.realm);
  const abort = new AbortController();
  const off = platform.process.onShutdownSignal(() => abort.abort());
  try {
    const res = await localNodeRequest(localNodeUrl(flags, platform), `/pubsub/subscribe?${query}`, {
      signal: abort.signal,
    }, platform);
    platform.process.stderr(
      `macula: subscribed to ${pattern} in realm ${res.headers.get("x-macula-realm")} as the local node\n`,
    );
    let seen = 0;
    let buffer = "";
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
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
    } catch (error) {
      if (!abort.signal.aborted) throw error;
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

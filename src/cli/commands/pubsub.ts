/**
 * `macula pub TOPIC JSON` and `macula sub TOPIC`.
 *
 * @module
 */
import type { Platform } from "../../platform/types.ts";
import { UsageError } from "../args.ts";
import { CLIENT_HELP as HELP } from "../help-client.ts";
import { AS_NODE_FLAG, publishAsNode, subscribeAsNode } from "./as-node.ts";
import { type ClientFlags, jsonArgument, parseClient, positiveInt, withClientNode } from "./client.ts";

/** Run `macula pub`. */
export async function pub(args: string[], platform: Platform): Promise<number> {
  const { flags, positionals } = parseClient<ClientFlags>(args, AS_NODE_FLAG, 2);
  if (flags.help) return platform.process.stdout(HELP.pub + "\n"), 0;
  const [topic, json] = positionals;
  if (!topic) throw new UsageError('missing TOPIC; usage: macula pub TOPIC JSON (run "macula pub --help")');
  const payload = jsonArgument(json, "the payload");
  if (flags["as-node"]) return await publishAsNode(flags, topic, payload, platform);
  return await withClientNode(flags, platform, async (node, realm) => {
    const result = await node.publish(topic, payload, { realm });
    await node.pubsub.flush();
    platform.process.stdout(JSON.stringify({ topic, realm, subscribers: result.remote }) + "\n");
    return 0;
  });
}

/** Run `macula sub`: one JSON line per message until SIGINT/SIGTERM (or `--count`). */
export async function sub(args: string[], platform: Platform): Promise<number> {
  const { flags, positionals } = parseClient<ClientFlags & { count?: string }>(args, {
    count: { type: "string" },
    ...AS_NODE_FLAG,
  }, 1);
  if (flags.help) return platform.process.stdout(HELP.sub + "\n"), 0;
  const [pattern] = positionals;
  if (!pattern) throw new UsageError('missing TOPIC; usage: macula sub TOPIC (run "macula sub --help")');
  const count = flags.count === undefined ? Infinity : positiveInt(flags.count, "--count", 1);
  if (flags["as-node"]) return await subscribeAsNode(flags, pattern, count, platform);
  return await withClientNode(flags, platform, async (node, realm) => {
    const subscription = node.subscribe(pattern, undefined, { realm });
    await node.pubsub.whenAnnounced();
    platform.process.stderr(`macula: subscribed to ${pattern} in realm ${realm}\n`);
    const off = platform.process.onShutdownSignal(() => subscription.unsubscribe());
    let seen = 0;
    try {
      for await (const msg of subscription) {
        platform.process.stdout(
          JSON.stringify({ topic: msg.topic, payload: msg.payload, publisher: msg.publisher.did, seq: msg.seq }) + "\n",
        );
        if (++seen >= count) break;
      }
    } finally {
      off();
    }
    return 0;
  });
}

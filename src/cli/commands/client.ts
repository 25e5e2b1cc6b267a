/**
 * The short-lived node that `macula pub`, `sub`, `call` and `dht` run: a
 * fresh in-memory identity (nothing written to disk) that joins the mesh
 * through `--seed` addresses, or through the node already running on this
 * machine (found on its HTTP status port), does its work and leaves.
 *
 * @module
 */
import { KeyPair } from "../../identity/ed25519.ts";
import { Logger } from "../../log/logger.ts";
import { Node } from "../../api/node.ts";
import type { Platform } from "../../platform/types.ts";
import { MaculaError } from "../../util/errors.ts";
import { type FlagSpec, parseWithPositionals, UsageError } from "../args.ts";
import { ConfigError, readEnv, resolveStartConfig } from "../config.ts";
import { fetchLocalNode } from "./query.ts";

/** Flags every client command takes. */
export const CLIENT_FLAGS: FlagSpec = {
  seed: { type: "string", multiple: true },
  realm: { type: "string" },
  host: { type: "string" },
  port: { type: "string" },
  "health-host": { type: "string" },
  "health-port": { type: "string" },
  "log-level": { type: "string" },
  timeout: { type: "string" },
};

/** Parsed client flags. */
export interface ClientFlags {
  help?: boolean;
  seed?: string[];
  realm?: string;
  host?: string;
  port?: string;
  "health-host"?: string;
  "health-port"?: string;
  "log-level"?: string;
  timeout?: string;
  /** Act through the local node (`pub`, `sub`, `call`). */
  "as-node"?: boolean;
}

/** Parse a client command's flags and positionals. */
export function parseClient<T extends ClientFlags>(
  args: string[],
  extra: FlagSpec,
  positionals: number,
): { flags: T; positionals: string[] } {
  const { values, positionals: rest } = parseWithPositionals<T>(args, { ...CLIENT_FLAGS, ...extra }, positionals);
  return { flags: values, positionals: rest };
}

/** A positive integer flag value, or a `UsageError`-style `ConfigError`. */
export function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,9}$/.test(value) || Number(value) === 0) {
    throw new ConfigError(`invalid ${flag} ${JSON.stringify(value)}: expected a positive integer`);
  }
  return Number(value);
}

/** Parse a JSON argument with a clear error. */
export function jsonArgument(text: string | undefined, what: string): unknown {
  if (text === undefined) return null;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${what} is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * Start a client node, join the mesh, run `work`, stop the node.
 * Resolves with `work`'s result.
 */
export async function withClientNode<T>(
  flags: ClientFlags,
  platform: Platform,
  work: (node: Node, realm: string) => Promise<T>,
): Promise<T> {
  const env = readEnv((name) => platform.process.env(name));
  const cfg = resolveStartConfig(env, {
    seed: flags.seed,
    realm: flags.realm === undefined ? undefined : [flags.realm],
    host: flags.host,
    port: flags.port ?? "0",
    "health-host": flags["health-host"],
    "health-port": flags["health-port"],
    "log-level": flags["log-level"] ?? "warn",
  });
  let seeds = cfg.seeds;
  if (seeds.length === 0) {
    const status = await fetchLocalNode("/status", cfg.healthHost, cfg.healthPort, platform) as { addrs?: string[] };
    seeds = (status.addrs ?? []).slice(0, 2);
    if (seeds.length === 0) throw new MaculaError("E_NO_NODE", "the local node reports no addresses; pass --seed");
  }
  const log = new Logger({ level: cfg.logLevel, sink: (line) => platform.process.stderr(line + "\n") });
  const node = await Node.start({
    keyPair: KeyPair.generate(),
    host: cfg.host,
    port: cfg.port,
    realms: cfg.realms,
    logger: log,
    platform,
    relay: { autoReserve: 0 }, // a one-shot client dials relayed addresses but reserves nowhere
  });
  try {
    const realm = cfg.realms[0];
    const joinTimeout = positiveInt(flags.timeout, "--timeout", 10_000);
    await join(node, seeds, realm, joinTimeout);
    return await work(node, realm);
  } finally {
    await node.stop();
  }
}

async function join(node: Node, seeds: string[], realm: string, timeout: number): Promise<void> {
  const errors: string[] = [];
  for (const seed of seeds) {
    try {
      await node.connect(seed, { signal: AbortSignal.timeout(timeout) });
      // Wait for the identify exchange to put the seed in our routing table,
      // then fill the table with our neighbourhood.
      const deadline = Date.now() + timeout;
      while (node.dht.table(realm).size === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      if (node.dht.table(realm).size === 0) {
        throw new MaculaError("E_REALM", `the seed does not run in realm ${JSON.stringify(realm)}`);
      }
      await node.dht.lookup(realm, node.dht.table(realm).selfKey);
      return;
    } catch (error) {
      errors.push(`${seed}: ${(error as Error).message}`);
    }
  }
  throw new MaculaError("E_JOIN", `could not join the mesh: ${errors.join("; ")}`);
}

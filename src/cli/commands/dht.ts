/**
 * `macula dht lookup KEY`: look something up in the DHT of a realm.
 *
 * KEY is a node's `did:key` (prints its signed record), `rpc:PROCEDURE` or
 * `sub:ROOT` (prints the providers), or a 64-digit hex key (prints the
 * closest nodes).
 *
 * @module
 */
import { realmKey } from "../../dht/keys.ts";
import { NodeId } from "../../identity/node-id.ts";
import type { NodeRecord } from "../../identity/node-record.ts";
import type { Platform } from "../../platform/types.ts";
import { fromHex } from "../../util/bytes.ts";
import { MaculaError } from "../../util/errors.ts";
import { UsageError } from "../args.ts";
import { CLIENT_HELP as HELP } from "../help-client.ts";
import { type ClientFlags, parseClient, withClientNode } from "./client.ts";

function show(record: NodeRecord) {
  return {
    id: record.id.did,
    addrs: record.addrs.map((a) => `${a}/${record.id.did}`),
    realms: record.realms,
    seq: record.seq,
    expires: new Date(record.expires).toISOString(),
  };
}

/** Run `macula dht`. */
export async function dht(args: string[], platform: Platform): Promise<number> {
  const { flags, positionals } = parseClient<ClientFlags>(args, {}, 2);
  if (flags.help || positionals.length === 0) return platform.process.stdout(HELP.dht + "\n"), 0;
  const [sub, key] = positionals;
  if (sub !== "lookup") throw new UsageError(`unknown dht command ${JSON.stringify(sub)}; use "macula dht lookup KEY"`);
  if (!key) throw new UsageError("missing KEY; usage: macula dht lookup KEY");
  const out = (value: unknown) => platform.process.stdout(JSON.stringify(value, null, 2) + "\n");
  return await withClientNode(flags, platform, async (node, realm) => {
    if (key.startsWith("did:key:")) {
      const id = NodeId.fromDid(key);
      const record = await node.dht.findNode(realm, id);
      if (!record) throw new MaculaError("E_NOT_FOUND", `${key} was not found in realm ${realm}`);
      out({ ...show(record), hops: node.dht.status().lastLookupHops });
      return 0;
    }
    const m = /^(rpc|sub):(.+)$/.exec(key);
    if (m) {
      const providers = await node.dht.findProviders(realm, realmKey(realm, m[1] as "rpc" | "sub", m[2]), {
        limit: 100,
      });
      out(providers.map((p) => ({ ...show(p.provider), data: p.data, until: new Date(p.expires).toISOString() })));
      return 0;
    }
    if (!/^[0-9a-fA-F]{64}$/.test(key)) {
      throw new UsageError(`KEY must be a did:key, rpc:NAME, sub:ROOT or 64 hex digits, got ${JSON.stringify(key)}`);
    }
    const result = await node.dht.lookup(realm, fromHex(key));
    out({
      hops: result.hops,
      queried: result.queried,
      closest: result.closest.map((p) => node.peerStore.get(p.id)?.record).filter((r) => r).map((r) => show(r!)),
    });
    return 0;
  });
}

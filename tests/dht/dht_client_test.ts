/**
 * DHT clients (browser peers): a node started with `dht: { client: true }`
 * and the `dht-client` role answers no DHT requests and stays out of every
 * routing table, yet looks up, provides and puts like any node, and what it
 * provides is found by others.
 */
import { DHT_CLIENT_ROLE } from "../../src/dht/dht.ts";
import { realmKey } from "../../src/dht/keys.ts";
import { DHT_PROTOCOL } from "../../src/dht/messages.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { MemoryNetwork, memoryNode, until } from "../helpers/nodes.ts";

Deno.test("dht client: stays out of routing tables, serves no DHT requests, still provides and finds", async () => {
  const network = new MemoryNetwork();
  await using a = await memoryNode(network);
  await using b = await memoryNode(network, { seeds: [a.addrs[0]] });
  await using c = await memoryNode(network, { seeds: [b.addrs[0]] });
  await using client = await memoryNode(network, {
    seeds: [a.addrs[0]],
    dht: { client: true },
    roles: [DHT_CLIENT_ROLE],
  });
  await until(() => client.dht.table("default").size > 0 && c.dht.table("default").has(a.id), 10_000, "tables");
  assert(client.record().roles.includes(DHT_CLIENT_ROLE));
  await until(() => !!a.connection(client.id), 5000, "a ↔ client");
  for (const n of [a, b, c]) assert(!n.dht.table("default").has(client.id), "the client is in no routing table");

  // it provides; a server two hops away finds it as a provider
  const key = realmKey("default", "rpc", "client.provided");
  assert(await client.dht.provide("default", key) > 0, "stored at some servers");
  const providers = await c.dht.findProviders("default", key);
  assertEquals(providers.map((p) => p.provider.id.did), [client.did]);

  // it answers no DHT request: it does not even handle the protocol
  assert(a.protocols().includes(DHT_PROTOCOL) && !client.protocols().includes(DHT_PROTOCOL), client.protocols().join());
  const looked = await client.dht.lookup("default", c.dht.table("default").selfKey);
  assert(looked.closest.some((p) => p.id.equals(c.id)), "the client's lookup finds c");
});

/**
 * A lying content provider, for the CLI tests: a Node started through the
 * library whose content store is a real in-memory store wrapped so that
 * every read flips one byte in each 16 KiB group (a test double of the
 * provider only; everything else, the tree included, is honest). It serves
 * the status endpoints and the /content routes on a free loopback port and
 * logs `status endpoint listening url=…` like `macula start`, so the tests
 * launch it with `launch()` and publish to it with `macula content publish`.
 *
 * Usage: deno run <permissions> tests/content/helpers/lying_provider.ts [--seed ADDR]…
 */
import { Node } from "../../../src/api/node.ts";
import { contentRoutes } from "../../../src/http/content-routes.ts";
import { startStatusServer } from "../../../src/http/status-server.ts";
import { MemoryContentStore } from "../../../src/content/memory-store.ts";
import type { ContentReader, ContentStore } from "../../../src/content/store.ts";
import { GROUP_SIZE } from "../../../src/content/tree.ts";
import { currentPlatform } from "../../../src/platform/current.ts";
import { Logger } from "../../../src/log/logger.ts";

/** Wraps `store`: readers return bytes with the first byte of every group they touch inverted. */
export function lyingStore(store: ContentStore): ContentStore {
  const lie = (reader: ContentReader): ContentReader => ({
    get mcid() {
      return reader.mcid;
    },
    get leaves() {
      return reader.leaves;
    },
    have: () => reader.have(),
    async read(offset, length) {
      const bytes = (await reader.read(offset, length)).slice();
      for (let i = 0; i < bytes.length; i++) {
        if ((offset + i) % GROUP_SIZE === 0 || i === 0) bytes[i] ^= 0xff;
      }
      return bytes;
    },
    close: () => reader.close(),
  });
  return {
    get quota() {
      return store.quota;
    },
    used: () => store.used(),
    open: () => store.open(),
    put: (source, options) => store.put(source, options),
    get: (mcid) => store.get(mcid),
    list: () => store.list(),
    writer: (mcid) => store.writer(mcid),
    reader: async (mcid) => {
      const r = await store.reader(mcid);
      return r ? lie(r) : undefined;
    },
    pin: (mcid, pinned) => store.pin(mcid, pinned),
    remove: (mcid) => store.remove(mcid),
    close: () => store.close(),
  };
}

if (import.meta.main) {
  const seeds: string[] = [];
  for (let i = 0; i < Deno.args.length; i++) if (Deno.args[i] === "--seed") seeds.push(Deno.args[++i]);
  const platform = currentPlatform();
  const log = new Logger({ level: "warn", sink: (line) => console.error(line) });
  const node = await Node.start({
    host: "127.0.0.1",
    port: 0,
    seeds,
    logger: log,
    platform,
    relay: { autoReserve: 0 },
    content: { store: lyingStore(new MemoryContentStore({ quota: 1024 ** 3 })) },
  });
  const server = await startStatusServer(node, platform.http, "127.0.0.1", 0, {
    routes: [contentRoutes(node.content)],
  });
  console.error(`status endpoint listening url=http://127.0.0.1:${server.addr.port}/status`);
  const stop = async () => {
    await server.close().catch(() => {});
    await node.stop();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
}

/**
 * Test helper: providers and a fetcher on in-memory nodes, each provider
 * with its own `MemoryContentStore` and `ContentProvider` on
 * `/macula/content/1`, and links from the fetcher to each.
 */
import type { Node } from "../../../src/api/node.ts";
import { ContentProvider, type ProviderOptions } from "../../../src/content/provider.ts";
import { CONTENT_PROTOCOL } from "../../../src/content/messages.ts";
import { MemoryContentStore } from "../../../src/content/memory-store.ts";
import type { ProviderLink } from "../../../src/content/download.ts";
import type { ContentStore } from "../../../src/content/store.ts";
import type { Mcid } from "../../../src/content/mcid.ts";
import { MetricsRegistry } from "../../../src/metrics/registry.ts";
import { ContentMetrics } from "../../../src/content/metrics.ts";
import type { ByteStream } from "../../../src/transport/stream.ts";
import { MemoryNetwork, memoryNode } from "../../helpers/nodes.ts";

/** One provider node. */
export interface ProviderNode {
  node: Node;
  store: ContentStore;
  provider: ContentProvider;
  registry: MetricsRegistry;
  metrics: ContentMetrics;
  /** Bytes this provider served. */
  served(): number;
}

/** Random bytes (any length; getRandomValues fills at most 64 KiB at a time). */
export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let off = 0; off < n; off += 65536) crypto.getRandomValues(out.subarray(off, Math.min(n, off + 65536)));
  return out;
}

/** Put `bytes` into `store` and return the MCID. */
export async function publish(store: ContentStore, bytes: Uint8Array): Promise<Mcid> {
  const entry = await store.put(ReadableStream.from([bytes]));
  return entry.mcid;
}

/** The fetcher and `count` providers on one in-memory network. */
export class Swarm {
  readonly network = new MemoryNetwork();
  fetcher!: Node;
  providers: ProviderNode[] = [];

  static async start(
    count: number,
    options: (i: number) => Partial<ProviderOptions> & { store?: ContentStore } = () => ({}),
  ): Promise<Swarm> {
    const swarm = new Swarm();
    swarm.fetcher = await memoryNode(swarm.network, { content: false });
    for (let i = 0; i < count; i++) {
      const node = await memoryNode(swarm.network, { content: false });
      const registry = new MetricsRegistry();
      const metrics = new ContentMetrics(registry);
      const opts = options(i);
      const store = opts.store ?? new MemoryContentStore();
      await store.open();
      const provider = new ContentProvider({ metrics, ...opts, store });
      node.handle(CONTENT_PROTOCOL, (stream) => provider.serve(stream, stream.remoteId));
      swarm.providers.push({
        node,
        store,
        provider,
        registry,
        metrics,
        served: () => registry.counter("macula_content_served_bytes_total", "").get(),
      });
    }
    return swarm;
  }

  /** Publish `bytes` on providers `which` (default all); returns the MCID. */
  async publish(bytes: Uint8Array, which: number[] = this.providers.map((_, i) => i)): Promise<Mcid> {
    let mcid!: Mcid;
    for (const i of which) mcid = await publish(this.providers[i].store, bytes);
    return mcid;
  }

  /** A link from the fetcher to provider `i`; `wrap` may replace the opened stream. */
  link(i: number, wrap?: (s: ByteStream) => ByteStream): ProviderLink {
    const p = this.providers[i];
    const fetcher = this.fetcher;
    return {
      peer: p.node.id,
      async open(signal?: AbortSignal): Promise<ByteStream> {
        const conn = await fetcher.connect(p.node.addrs[0], { signal });
        const stream = await conn.openStream(CONTENT_PROTOCOL, { signal });
        return wrap ? wrap(stream) : stream;
      },
    };
  }

  async stop(): Promise<void> {
    await this.fetcher.stop();
    for (const p of this.providers) await p.node.stop();
  }
}

/**
 * Finding providers of one piece of content: connected peers first (one
 * want-have each, answered within a short timeout), then the DHT (one
 * provider record per MCID). Each provider found is handed to the download
 * as soon as it is known; when both searches are over, the download is
 * told no more will come. A locator serving the realm (the hierarchy) is
 * asked too; with a `scope`, it alone is asked (connected peers and the
 * flat DHT may lie outside the scope).
 *
 * @module
 */
import type { DhtService } from "../dht/dht.ts";
import { realmKey } from "../dht/keys.ts";
import type { NodeId } from "../identity/node-id.ts";
import type { ServiceHost } from "../node/service.ts";
import { askHave, type ProviderLink } from "./download.ts";
import { type ContentLocator, locatorFor } from "./locator.ts";
import { CONTENT_PROTOCOL } from "./messages.ts";
import type { Mcid } from "./mcid.ts";

/** The DHT key under which providers of `mcid` announce themselves in `realm`. */
export function contentKey(realm: string, mcid: Mcid): Uint8Array {
  return realmKey(realm, "content", mcid.toString());
}

/** A link that opens content sessions to `peer` through the node's connections. */
export function providerLink(host: ServiceHost, peer: NodeId): ProviderLink {
  return {
    peer,
    open: async (signal) => {
      const conn = await host.connect(peer, { signal });
      return await conn.openStream(CONTENT_PROTOCOL, { signal });
    },
  };
}

/** Where discovery reports what it finds. */
export interface ProviderSink {
  addProvider(link: ProviderLink): void;
  noMoreProviders(): void;
}

/** Options of `discoverProviders`. */
export interface DiscoveryOptions {
  /** Realm of the DHT search. */
  realm: string;
  /** How many providers to look for in the DHT. Default 20. */
  limit?: number;
  /** Timeout of a connected peer's want-have answer, ms. Default 2 000. */
  askTimeout?: number;
  /** Connected peers asked at once. Default 16. */
  askConcurrency?: number;
  /** Where providers are also looked up (the hierarchy), if it serves `realm`. */
  locator?: ContentLocator;
  /** Look only within this scope (a level name or number; needs a locator serving `realm`). */
  scope?: string | number;
  signal?: AbortSignal;
}

/**
 * Ask the connected peers and the DHT for providers of `mcid`, feeding
 * `sink` as they are found; resolves once both searches are over (and
 * `sink.noMoreProviders()` was called).
 */
export async function discoverProviders(
  host: ServiceHost,
  dht: DhtService | undefined,
  mcid: Mcid,
  sink: ProviderSink,
  options: DiscoveryOptions,
): Promise<void> {
  const seen = new Set<string>([host.id.hex]);
  const offer = (peer: NodeId) => {
    if (seen.has(peer.hex)) return;
    seen.add(peer.hex);
    sink.addProvider(providerLink(host, peer));
  };
  const askTimeout = options.askTimeout ?? 2_000;
  const connected = async () => {
    const peers = host.peers().filter((p) => !seen.has(p.hex));
    const width = options.askConcurrency ?? 16;
    let next = 0;
    const worker = async () => {
      while (next < peers.length && !options.signal?.aborted) {
        const peer = peers[next++];
        const signal = AbortSignal.any([AbortSignal.timeout(askTimeout), ...(options.signal ? [options.signal] : [])]);
        try {
          const have = await askHave(providerLink(host, peer), mcid, signal);
          if (have && !have.empty) offer(peer);
        } catch {
          // A peer that cannot answer is simply not a provider.
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(width, peers.length) }, worker));
  };
  const fromDht = async () => {
    if (!dht) return;
    try {
      const records = await dht.findProviders(options.realm, contentKey(options.realm, mcid), {
        limit: options.limit ?? 20,
        signal: options.signal,
      });
      for (const r of records) offer(r.provider.id);
    } catch (error) {
      host.log.debug("content provider lookup failed", { mcid: mcid.toString(), error: (error as Error).message });
    }
  };
  const near = locatorFor(options.locator, options.realm);
  const fromLocator = async () => {
    if (!near) return;
    try {
      for (const id of await near.find(mcid.toString(), options.scope)) offer(id);
    } catch (error) {
      host.log.debug("content provider lookup failed", { mcid: mcid.toString(), error: (error as Error).message });
    }
  };
  try {
    await Promise.all(near && options.scope !== undefined ? [fromLocator()] : [connected(), fromDht(), fromLocator()]);
  } finally {
    sink.noMoreProviders();
  }
}

/**
 * The summaries a node reports about itself: one entry per connected peer
 * (`Node.peers()`) and its status (`Node.status()`), each with the fields
 * that services contribute.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { Platform } from "../platform/types.ts";
import type { Connection } from "../transport/connection.ts";
import { VERSION } from "../version.ts";
import type { NodeStatus, PeerSummary } from "./options.ts";
import type { PeerStore } from "./peer-store.ts";

/** What services add to the summaries (see `ServiceSet`). */
export interface ServiceSections {
  /** Fields for the `/peers` entry of `id`. */
  peerInfo(id: NodeId): Record<string, unknown>;
  /** Sections of `/status`, by service name. */
  status(): Record<string, unknown>;
}

/**
 * One summary per connection, with what the peer store knows about the
 * peer and the fields services add (`NodeService.peerInfo`).
 *
 * @example
 * ```ts
 * import { peerSummaries } from "./summaries.ts";
 * declare const connections: import("../transport/connection.ts").Connection[];
 * declare const peerStore: import("./peer-store.ts").PeerStore;
 * declare const services: import("./summaries.ts").ServiceSections;
 * for (const p of peerSummaries(connections, peerStore, services)) console.log(p.id, p.transport, p.rtt);
 * ```
 */
export function peerSummaries(
  connections: Connection[],
  peerStore: PeerStore,
  services: ServiceSections,
): PeerSummary[] {
  return connections.map((c) => {
    const entry = peerStore.get(c.remoteId);
    return {
      id: c.remoteId.did,
      transport: c.transport,
      route: c.route,
      direction: c.direction,
      address: c.remoteAddress,
      rtt: entry?.rtt === undefined ? undefined : Math.round(entry.rtt * 1000) / 1000,
      since: new Date(c.openedAt).toISOString(),
      streams: c.activeStreams,
      addrs: entry?.record?.addrs.map((a) => `${a}/${c.remoteId.did}`) ?? [],
      realms: entry?.record?.realms ?? [],
      ...services.peerInfo(c.remoteId),
    };
  });
}

/** What a node's status is made of. */
export interface StatusSource {
  /** The node's id. */
  id: NodeId;
  /** Its dialable addresses. */
  addrs: string[];
  /** Its realms, the primary first. */
  realms: string[];
  /** The platform it runs on. */
  platform: Platform;
  /** When it started, ms since epoch. */
  startedAt: number;
  /** Connected peers. */
  peers: number;
  /** Addresses peers reported seeing the node at (`transport://address`), newest first. */
  observedAddrs?: string[];
  /** Running services; each with `status()` adds a section under its name. */
  services: ServiceSections;
}

/**
 * A node's status, with a section per service that reports one.
 *
 * @example
 * ```ts
 * import { nodeStatus } from "./summaries.ts";
 * declare const source: import("./summaries.ts").StatusSource;
 * const { id, version, uptime, peers } = nodeStatus(source);
 * ```
 */
export function nodeStatus(source: StatusSource): NodeStatus {
  return {
    id: source.id.did,
    addrs: source.addrs,
    realm: source.realms[0],
    realms: source.realms,
    version: VERSION,
    runtime: `${source.platform.runtimeVersion} ${source.platform.target}`,
    uptime: Math.round((Date.now() - source.startedAt) / 1000),
    peers: source.peers,
    observedAddrs: source.observedAddrs ?? [],
    ...source.services.status(),
  };
}

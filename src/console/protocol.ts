/**
 * The console's event stream: what `GET /console/events` (Server-Sent
 * Events) sends, and what the page renders. One `snapshot` event at once on
 * connect and then every `interval` ms (default 1000): the whole picture,
 * small enough (a few KB for tens of peers) that deltas are not worth their
 * complexity. Each SSE message is `event: snapshot\ndata: <JSON>\n\n`;
 * a `: ping` comment every 15 s keeps proxies from closing it.
 *
 * @module
 */

/** Format version of `ConsoleSnapshot`; bump on incompatible changes. */
export const CONSOLE_PROTOCOL_VERSION = 1;

/** One snapshot of the node and what it sees. */
export interface ConsoleSnapshot {
  /** `CONSOLE_PROTOCOL_VERSION`. */
  v: number;
  /** When it was taken, ms since the epoch. */
  at: number;
  /** Whether actions are off (`--console-readonly`). */
  readonly: boolean;
  /** This node. */
  node: ConsoleNode;
  /** Connected (and recently connected) peers: the graph's edges from this node. */
  peers: ConsolePeer[];
  /** SWIM/cluster membership; empty when clustering is off. */
  members: ConsoleMember[];
  /** Per realm: its topics and procedures. */
  realms: ConsoleRealm[];
  /** Absent when the node runs without the content service. */
  content?: ConsoleContent;
  /** Absent when the node runs without the apps service. */
  apps?: ConsoleApp[];
  /** Rings this node is in (WebRTC peer groups); absent when the node runs without rings. */
  rings?: ConsoleRing[];
  /** The last minutes, one point a second, oldest first (at most 600 points). */
  series: ConsoleSeries;
}

/** The node itself: identity, addresses, reachability. */
export interface ConsoleNode {
  /** did:key. */
  id: string;
  /** Dialable addresses. */
  addrs: string[];
  /** Addresses peers reported seeing this node at. */
  observedAddrs: string[];
  /** Realms, the primary first. */
  realms: string[];
  /** Macula's version. */
  version: string;
  /** Runtime and target, e.g. `deno 2.9.6 linux-x86_64`. */
  runtime: string;
  /** Seconds. */
  uptime: number;
  /** "public" | "private" | "unknown" (from the NAT service when present). */
  reachability: string;
  /** e.g. "endpoint-independent", "symmetric", "unknown". */
  natType: string;
  /** Relays this node holds a reservation at (did:key), if any. */
  relays: string[];
}

/** A peer of this node: an edge of the graph. */
export interface ConsolePeer {
  /** The peer's did:key. */
  id: string;
  /** Whether it is connected now (a disconnected peer stays 60 s). */
  connected: boolean;
  /** "direct" or "relayed". */
  path: "direct" | "relayed";
  /** The relay's did:key when relayed. */
  via?: string;
  /** "quic" | "tcp" | "memory" | "relay" | … */
  transport: string;
  /** Last RTT, ms. */
  rtt?: number;
  /** The remote address, if known. */
  addr?: string;
  /** ms since the epoch of the connection (or of the disconnect when not connected). */
  since: number;
}

/** A member of the SWIM cluster. */
export interface ConsoleMember {
  /** The member's did:key. */
  id: string;
  /** Its SWIM state (a member that left is `dead`). */
  state: "alive" | "suspect" | "dead";
  /** ms since the epoch of the last state change. */
  changed: number;
}

/** A realm with its pub/sub topics and RPC procedures. */
export interface ConsoleRealm {
  /** The realm's name. */
  name: string;
  /** Topics subscribed or seen here. */
  topics: ConsoleTopic[];
  /** Procedures provided here or called from here. */
  procedures: ConsoleProcedure[];
}

/** A pub/sub topic. */
export interface ConsoleTopic {
  /** The topic (or subscription pattern). */
  topic: string;
  /** Subscribers known in the mesh (remote nodes + local handlers). */
  subscribers: number;
  /** Messages/s over the last 10 s, published here + received here. */
  rate: number;
}

/** An RPC procedure. */
export interface ConsoleProcedure {
  /** The procedure's name. */
  procedure: string;
  /** did:keys of the providers known (this node included when it provides it). */
  providers: string[];
  /** Calls/s over the last 10 s (made + served here). */
  rate: number;
}

/** The content store and the transfers in progress. */
export interface ConsoleContent {
  /** Entries of the store: MCID, size, bytes held, whether complete and pinned. */
  entries: { mcid: string; size: number; bytes: number; complete: boolean; pinned: boolean }[];
  /** Bytes the store uses. */
  used: number;
  /** The store's quota, bytes. */
  quota: number;
  /** Fetches in progress: size, bytes received, providers, bytes/s. */
  transfers: { mcid: string; size: number; received: number; providers: number; rate: number }[];
}

/** An admitted mesh app. */
export interface ConsoleApp {
  /** The app's identity (did:key). */
  identity: string;
  /** The capabilities it was admitted with. */
  capabilities: string[];
  /** "healthy" | "unhealthy" | … as the apps service reports it. */
  health: string;
  /** ms since the epoch of the last health check. */
  checked?: number;
}

/** A ring this node joined. */
export interface ConsoleRing {
  /** The ring's name. */
  name: string;
  /** Its realm. */
  realm: string;
  /** When this node joined it, ms since the epoch (0 for a ring it only serves as a gateway). */
  joinedAt: number;
  /**
   * `"gateway"`: this node is not in the ring; the members listed are peers
   * connected to it (its browser clients, typically), seen through their
   * subscription to the ring's presence topic. It relays their signaling.
   */
  role?: "member" | "gateway";
  /**
   * The other members: did:key, path (`webrtc` when directly connected,
   * `connecting` while signaling; `client` for a gateway's client), first
   * seen (0 where unknown).
   */
  members: { id: string; path: "webrtc" | "connecting" | "client"; since: number }[];
}

/** Time series for the charts, one point a second. */
export interface ConsoleSeries {
  /** Timestamps, ms since the epoch. */
  t: number[];
  /** Pub/sub messages/s (sent + received). */
  msgs: number[];
  /** Bytes/s over all connections (in + out). */
  bytes: number[];
  /** Open connections. */
  connections: number[];
  /** Resident set size, bytes (0 when unknown). */
  rss: number[];
}

/** `POST /console/actions/<kind>` bodies (JSON), behind the token, refused with 403 when read-only. */
export type ConsoleAction =
  | { kind: "ping"; peer: string }
  | { kind: "publish"; realm?: string; topic: string; payload: string }
  | { kind: "call"; realm?: string; procedure: string; args: unknown; timeout?: number };

/** The answer to an action: 200 `{ ok: true, result }` or 4xx/5xx `{ ok: false, error, code }`. */
export type ConsoleActionResult = { ok: true; result: unknown } | { ok: false; error: string; code: string };

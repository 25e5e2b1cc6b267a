/**
 * The plug-ins `Node.start` adds to the core, built from its options:
 * authorization (`auth`, first), the default services (DHT, pub/sub, RPC),
 * content transfer, reachability (`nat`), hole
 * punching (`punch`, over a QUIC transport built here so that it can open
 * punch endpoints) and the relay plug-ins (the `relay` transport, the relay
 * client and, when serving, the relay service). Each can be tuned, and
 * `nat`, `punch` and `relay` turned off with `false`.
 *
 * @module
 */
import { type AppsOptions, AppsService } from "../apps/apps-service.ts";
import { type AuthOptions, AuthService } from "../auth/auth-service.ts";
import { RevocationGossip } from "../auth/revocation-gossip.ts";
import { FileRevocationStore } from "../auth/revocation-store.ts";
import { type ContentOptions, ContentService, DEFAULT_CONTENT_QUOTA } from "../content/content-service.ts";
import { FsContentStore } from "../content/fs-store.ts";
import { MemoryContentStore } from "../content/memory-store.ts";
import { type DhtOptions, DhtService } from "../dht/dht.ts";
import { hierarchyPlugin, type LocalityOptions } from "../hierarchy/plugin.ts";
import { type PunchOptions, PunchService } from "../nat/punch.ts";
import type { SelfViewSource } from "../nat/punch-self.ts";
import { type ReachabilityOptions, ReachabilityService } from "../nat/reachability.ts";
import { DEFAULT_PORT, type NodeOptions as NodeCoreOptions } from "../node/options.ts";
import type { NodeService } from "../node/service.ts";
import { currentPlatform } from "../platform/current.ts";
import type { Platform } from "../platform/types.ts";
import { type PubSubOptions, PubSubService } from "../pubsub/pubsub.ts";
import { type RegistryOptions, RegistryService } from "../registry/registry-service.ts";
import { type RelayOptions, relayPlugins } from "../relay/plugin.ts";
import { type RpcOptions, RpcService } from "../rpc/rpc.ts";
import { QuicTransport } from "../transport/quic.ts";
import type { Transport } from "../transport/transport.ts";
import { type StateOptions, StateService } from "../state/state-service.ts";
import { StateStore } from "../state/store.ts";

/** Options of `Node.start`: the node core's, plus the tunables of the plug-ins it adds. */
export interface NodeOptions extends NodeCoreOptions, LocalityOptions {
  /**
   * Authorization (`node.auth`): per realm its policy (`"open"`, the
   * default, or `"closed"`) and authorities, the chains this node holds,
   * clock skew. Revocations are kept under `<dataDir>/auth/` when there is a
   * data dir. `false` runs without the auth service (every realm open, no
   * token exchange).
   */
  auth?: AuthOptions | false;
  /**
   * The gatekeeper (`node.apps`: admit mesh apps): health-check interval
   * and timeout, clock skew. On whenever `auth` is; `false` runs without it.
   */
  apps?: AppsOptions | false;
  /** Tunables of the DHT. */
  dht?: DhtOptions;
  /** Tunables of pub/sub. */
  pubsub?: PubSubOptions;
  /** Tunables of RPC. */
  rpc?: RpcOptions;
  /**
   * Relays: serve as one, reserve at some, peer relays (see
   * `docs/relay.md`). Every node can dial relayed addresses unless this is
   * `false`.
   */
  relay?: RelayOptions | false;
  /**
   * Content transfer (`node.content`): store quota, upload limits, whether
   * fetched content is provided in turn; `false` runs without it.
   */
  content?: ContentOptions | false;
  /** Tunables of the reachability service (`"nat"`), or `false` to run without it. */
  nat?: ReachabilityOptions | false;
  /**
   * Hole punching (relayed connections become direct QUIC connections):
   * on by default where the node has QUIC; `false` turns it off.
   */
  punch?: Omit<PunchOptions, "quic"> | false;
  /** Replicated state (`node.state`), kept under `<dataDir>/state/`; `false` runs without it. */
  state?: StateOptions | false;
  /**
   * The artifact registry (`node.registry`): trusted publishers, install
   * dir (default `<dataDir>/installed`); on with content, `false` runs without it.
   */
  registry?: Omit<RegistryOptions, "auth" | "fs"> | false;
}

/**
 * The default service set: DHT, pub/sub and RPC, configured from `options`.
 *
 * @example
 * ```ts
 * import { defaultServices } from "./plugins.ts";
 * defaultServices({}).map((s) => s.name); // ["dht", "pubsub", "rpc"]
 * ```
 */
export function defaultServices(options: NodeOptions): NodeService[] {
  return [new DhtService(options.dht), new PubSubService(options.pubsub), new RpcService(options.rpc)];
}

/**
 * The auth service (first among the services, so that its policy holds from
 * the start) and, where revocations are gossiped, the gossip service.
 */
function authServices(options: NodeOptions, platform: Platform): NodeService[] {
  if (options.auth === false) return [];
  const opts = options.auth ?? {};
  const revocations = opts.revocations ??
    (options.dataDir ? new FileRevocationStore(platform.fs, platform.fs.join(options.dataDir, "auth")) : undefined);
  const auth = new AuthService({ ...opts, revocations });
  return auth.guardedRealms().length > 0 ? [auth, new RevocationGossip()] : [auth];
}

/** The content service: its store on disk under the data dir (in memory without one). */
function contentService(options: NodeOptions, platform: Platform): ContentService | undefined {
  if (options.content === false) return undefined;
  const opts = options.content ?? {};
  const store = opts.store ??
    (options.dataDir
      ? new FsContentStore(platform.fs, platform.fs.join(options.dataDir, "content"), {
        quota: opts.quota ?? DEFAULT_CONTENT_QUOTA,
      })
      : new MemoryContentStore({ quota: opts.quota ?? 256 * 1024 ** 2 }));
  return new ContentService(store, { openFile: (path) => Promise.resolve(platform.fs.readStream(path)), ...opts });
}

/** The registry: records under `<dataDir>/registry`, installs into `<dataDir>/installed` unless told otherwise. */
function registryService(options: NodeOptions, platform: Platform, services: NodeService[]): RegistryService {
  const auth = services.find((s): s is AuthService => s instanceof AuthService);
  const data = options.dataDir;
  return new RegistryService({
    fs: platform.fs,
    dir: data ? platform.fs.join(data, "registry") : undefined,
    installDir: data ? platform.fs.join(data, "installed") : undefined,
    ...(options.registry || {}),
    auth,
  });
}

/** The node's local IPv4 addresses, offered as punch candidates to peers on the same LAN. */
function localIpv4(platform: Platform): () => string[] {
  return () =>
    platform.process.interfaces().filter((i) => i.family === "IPv4" && !i.internal).map((i) => i.address).slice(0, 4);
}

/**
 * The QUIC transport the punch service works with: the caller's, or one
 * built here (with UDP, for pre-opening NAT mappings) in place of `"quic"`.
 */
function punchLink(options: NodeOptions, platform: Platform): { options: NodeOptions; quic?: QuicTransport } {
  if (options.punch === false) return { options };
  const wanted = options.transports ?? (options.memory ? [] : ["quic", "tcp"] as const);
  const given = wanted.find((t): t is QuicTransport => t instanceof QuicTransport);
  if (given) return { options, quic: given };
  if (!wanted.includes("quic") || !platform.quic) return { options };
  const quic = new QuicTransport(platform.quic, {
    host: options.host ?? "0.0.0.0",
    port: options.port ?? DEFAULT_PORT,
    udp: platform.udp,
  });
  return { options: { ...options, transports: wanted.map((t) => t === "quic" ? quic : t) }, quic };
}

/**
 * What the punch service takes as the node's public view: the reachability
 * service's judgement of the mapping and public IP where it has one, else
 * what the punch service gathered from identify itself.
 */
function reachabilityView(nat: ReachabilityService): SelfViewSource {
  return (observed) => {
    const m = nat.mapping();
    const publicHosts = m.publicIp
      ? [m.publicIp, ...observed.publicHosts.filter((h) => h !== m.publicIp)]
      : observed.publicHosts;
    return { ...observed, publicHosts, mapping: m.type !== "unknown" ? m.type : observed.mapping };
  };
}

/**
 * The gateway of a node that can dial only WebSockets (a browser): its
 * first `ws://` or `wss://` seed, unless `relay.gateway` names one.
 */
function defaultGateway(options: NodeOptions, links: ReadonlyArray<string | Transport>): string | undefined {
  if (options.relay && options.relay.gateway) return options.relay.gateway;
  const wsOnly = links.length > 0 &&
    links.every((t) => typeof t === "object" && ["ws", "webrtc", "relay"].includes(t.kind));
  return wsOnly ? options.seeds?.find((s) => /^wss?:\/\//.test(s)) : undefined;
}

/**
 * `options` completed with every plug-in `Node.start` adds, and the services
 * to start (before `options.services`).
 *
 * @example
 * ```ts
 * import { withPlugins } from "./plugins.ts";
 * const { services } = withPlugins({ port: 0, relay: { serve: true } });
 * services.map((s) => s.name); // ["auth", "dht", "pubsub", "rpc", "content", "registry", "apps", "state", "nat", "punch", "relay", "relay-client"]
 * ```
 */
export function withPlugins(options: NodeOptions): { options: NodeOptions; services: NodeService[] } {
  const platform = options.platform ?? currentPlatform();
  const { options: linked, quic } = punchLink(options, platform);
  const hier = hierarchyPlugin(linked);
  let opts = hier.options;
  const services = [...authServices(opts, platform), ...defaultServices(opts), ...hier.services];
  const content = contentService(opts, platform);
  if (content) services.push(content);
  if (content && opts.registry !== false) services.push(registryService(opts, platform, services));
  if (opts.apps !== false && opts.auth !== false) {
    services.push(new AppsService({ ...opts.apps, content: content !== undefined && opts.apps?.content !== false }));
  }
  if (opts.state !== false) {
    const store = opts.dataDir ? new StateStore(platform.fs, platform.fs.join(opts.dataDir, "state")) : undefined;
    services.push(new StateService({ store, ...opts.state }));
  }
  const nat = opts.nat === false ? undefined : new ReachabilityService(opts.nat);
  if (nat) services.push(nat);
  if (opts.punch !== false) {
    const selfView = nat ? reachabilityView(nat) : undefined;
    services.push(new PunchService({ localAddresses: localIpv4(platform), selfView, ...opts.punch, quic }));
  }
  const links = [...(opts.transports ?? []), ...(opts.addTransports ?? [])];
  const relay = opts.transports?.length === 0 ? undefined : relayPlugins(
    opts.relay === false
      ? false
      : { needsRelay: () => nat?.reachability() !== "public", gateway: defaultGateway(opts, links), ...opts.relay },
    links,
  );
  if (relay) {
    const addTransports = [
      ...(opts.addTransports ?? []),
      ...(links.includes(relay.transport) ? [] : [relay.transport]),
      ...(relay.gatewayTransport ? [relay.gatewayTransport] : []),
    ];
    opts = { ...opts, addTransports, roles: [...new Set([...(opts.roles ?? []), ...relay.roles])] };
    services.push(...relay.services);
  }
  return { options: opts, services };
}

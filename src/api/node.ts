/**
 * `Node`: the node applications start. It is a `NodeCore` that hosts the
 * default services — the Kademlia DHT, pub/sub and RPC — before any the
 * caller adds, and offers them as `node.dht`, `node.pubsub`, `node.rpc` and
 * the shortcuts `subscribe`, `publish`, `advertise` and `call`.
 *
 * @module
 */
import { DHT, type DhtOptions, DhtService } from "../dht/dht.ts";
import { DEFAULT_PORT, NodeCore, type NodeOptions as NodeCoreOptions } from "../node/node.ts";
import { type PunchOptions, PunchService } from "../nat/punch.ts";
import type { SelfViewSource } from "../nat/punch-self.ts";
import { currentPlatform } from "../platform/current.ts";
import type { Platform } from "../platform/types.ts";
import { QuicTransport } from "../transport/quic.ts";
import type { NodeService } from "../node/service.ts";
import { type ReachabilityOptions, ReachabilityService } from "../nat/reachability.ts";
import {
  type PublishResult,
  PUBSUB,
  type PubSubOptions,
  PubSubService,
  type SubscribeOptions,
} from "../pubsub/pubsub.ts";
import type { MessageHandler, Subscription } from "../pubsub/subscription.ts";
import {
  type Advertisement,
  type AdvertiseOptions,
  type CallOptions,
  RPC,
  type RpcHandler,
  type RpcOptions,
  RpcService,
} from "../rpc/rpc.ts";

/** Options of `Node.start`: the node core's, plus the default services' tunables. */
export interface NodeOptions extends NodeCoreOptions {
  /** Tunables of the DHT. */
  dht?: DhtOptions;
  /** Tunables of pub/sub. */
  pubsub?: PubSubOptions;
  /** Tunables of RPC. */
  rpc?: RpcOptions;
  /**
   * Hole punching (relayed connections become direct QUIC connections):
   * on by default where the node has QUIC; `false` turns it off.
   */
  punch?: Omit<PunchOptions, "quic"> | false;
  /** Tunables of the reachability service (`"nat"`), or `false` to run without it. */
  nat?: ReachabilityOptions | false;
}

/** The node's local IPv4 addresses, offered as punch candidates to peers on the same LAN. */
function localIpv4(platform: Platform): () => string[] {
  return () =>
    platform.process.interfaces().filter((i) => i.family === "IPv4" && !i.internal).map((i) => i.address).slice(0, 4);
}

/**
 * The options with the QUIC transport built here (with UDP for NAT
 * pre-opening) rather than by name, so the punch service can use it.
 */
function withPunchLink(options: NodeOptions): { options: NodeOptions; quic?: QuicTransport } {
  if (options.punch === false) return { options };
  const platform = options.platform ?? currentPlatform();
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
 * The default service set: DHT, pub/sub, RPC, reachability (`nat`, unless
 * `options.nat` is `false`) and hole punching over `quic` (`punch`, unless
 * `options.punch` is `false`), configured from `options`.
 *
 * @example
 * ```ts
 * import { defaultServices } from "./node.ts";
 * defaultServices({}).map((s) => s.name); // ["dht", "pubsub", "rpc", "nat", "punch"]
 * ```
 */
export function defaultServices(options: NodeOptions, quic?: QuicTransport): NodeService[] {
  const services: NodeService[] = [
    new DhtService(options.dht),
    new PubSubService(options.pubsub),
    new RpcService(options.rpc),
  ];
  const nat = options.nat === false ? undefined : new ReachabilityService(options.nat);
  if (nat) services.push(nat);
  if (options.punch !== false) {
    const localAddresses = localIpv4(options.platform ?? currentPlatform());
    const selfView = nat ? reachabilityView(nat) : undefined;
    services.push(new PunchService({ localAddresses, selfView, ...options.punch, quic }));
  }
  return services;
}

/**
 * A mesh node with the DHT, pub/sub and RPC.
 *
 * @example
 * ```ts
 * import { Node } from "../../mod.ts";
 * await using node = await Node.start({ dataDir: ".macula", port: 0 });
 * node.expose("greet", (from, name) => `hello ${name} from ${from.short}`);
 * console.log(node.id.did, node.addrs);
 * ```
 */
export class Node extends NodeCore {
  /** Start a node: load the identity, listen, start the default services and `options.services`, join seeds. */
  static override start(options: NodeOptions = {}): Promise<Node> {
    const { options: opts, quic } = withPunchLink(options);
    return NodeCore.launch((init) => new Node(init), opts, [
      ...defaultServices(opts, quic),
      ...(opts.services ?? []),
    ]);
  }

  /** The Kademlia DHT. */
  get dht(): DhtService {
    return this.service(DHT)!;
  }

  /** Pub/sub. */
  get pubsub(): PubSubService {
    return this.service(PUBSUB)!;
  }

  /** RPC. */
  get rpc(): RpcService {
    return this.service(RPC)!;
  }

  /**
   * Subscribe to `pattern` (dot-separated; `*` one segment, trailing `>` the
   * rest) in the primary realm or `options.realm`. Without a handler, iterate
   * the returned subscription with `for await`. `options.authorize` decides
   * which publishers' messages it receives.
   */
  subscribe(pattern: string, handler?: MessageHandler, options: SubscribeOptions = {}): Subscription {
    return this.pubsub.subscribe(pattern, handler, options);
  }

  /** Publish `payload` (any CBOR value) on `topic` to every subscriber in the realm. */
  publish(topic: string, payload: unknown, options: { realm?: string } = {}): Promise<PublishResult> {
    return this.pubsub.publish(topic, payload, options);
  }

  /**
   * Provide `procedure` with `handler` (announced in the DHT of the realm).
   * `options.authorize` decides each call; a refused caller gets
   * `NotAuthorizedError`.
   */
  advertise(procedure: string, handler: RpcHandler, options: AdvertiseOptions = {}): Advertisement {
    return this.rpc.advertise(procedure, handler, options);
  }

  /**
   * Call `procedure` on the best provider in the realm, failing over to the
   * next one if it dies or times out. Rejects with `NoProviderError`,
   * `TimeoutError`, `RemoteHandlerError`, `NotAuthorizedError` or
   * `AbortedError`.
   */
  call(procedure: string, args: unknown, options: CallOptions = {}): Promise<unknown> {
    return this.rpc.call(procedure, args, options);
  }
}

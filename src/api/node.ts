/**
 * `Node`: the node applications start. It is a `NodeCore` that hosts the
 * default services — the Kademlia DHT, pub/sub and RPC — before any the
 * caller adds, and offers them as `node.dht`, `node.pubsub`, `node.rpc` and
 * the shortcuts `subscribe`, `publish`, `advertise` and `call`.
 *
 * @module
 */
import { DHT, type DhtOptions, DhtService } from "../dht/dht.ts";
import { NodeCore, type NodeOptions as NodeCoreOptions } from "../node/node.ts";
import { type RelayOptions, relayPlugins } from "../relay/plugin.ts";
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
   * Relays: serve as one, reserve at some, peer relays (see
   * `docs/relay.md`). Every node can dial relayed addresses unless this is
   * `false`.
   */
  relay?: RelayOptions | false;
  /** Tunables of the reachability service (`"nat"`), or `false` to run without it. */
  nat?: ReachabilityOptions | false;
}

/**
 * `options` with the relay plug-ins added: the relay transport after the
 * others, the relay services, and the `relay` role when serving.
 */
function withRelay(options: NodeOptions): { options: NodeOptions; services: NodeService[] } {
  if (options.transports && options.transports.length === 0) return { options, services: [] };
  const plugins = relayPlugins(options.relay, [...(options.transports ?? []), ...(options.addTransports ?? [])]);
  if (!plugins) return { options, services: [] };
  const given = [...(options.transports ?? []), ...(options.addTransports ?? [])].includes(plugins.transport);
  const addTransports = given ? options.addTransports : [...(options.addTransports ?? []), plugins.transport];
  const roles = [...new Set([...(options.roles ?? []), ...plugins.roles])];
  return { options: { ...options, addTransports, roles }, services: plugins.services };
}

/**
 * The default service set: DHT, pub/sub, RPC and reachability (`nat`,
 * unless `options.nat` is `false`), configured from `options`.
 *
 * @example
 * ```ts
 * import { defaultServices } from "./node.ts";
 * defaultServices({}).map((s) => s.name); // ["dht", "pubsub", "rpc", "nat"]
 * ```
 */
export function defaultServices(options: NodeOptions): NodeService[] {
  const services: NodeService[] = [
    new DhtService(options.dht),
    new PubSubService(options.pubsub),
    new RpcService(options.rpc),
  ];
  if (options.nat !== false) services.push(new ReachabilityService(options.nat));
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
    const relay = withRelay(options);
    return NodeCore.launch((init) => new Node(init), relay.options, [
      ...defaultServices(options),
      ...relay.services,
      ...(options.services ?? []),
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

/**
 * `Node`: the node applications start. It is a `NodeCore` that hosts the
 * default services — the Kademlia DHT, pub/sub and RPC — plus authorization,
 * content transfer, reachability, hole punching and the relay plug-ins
 * (`./plugins.ts`), before any the caller adds, and offers them as
 * `node.auth`, `node.dht`, `node.pubsub`, `node.rpc`, `node.content` and the shortcuts
 * `subscribe`, `publish`, `advertise` and `call`.
 *
 * @module
 */
import { APPS, type AppsService } from "../apps/apps-service.ts";
import { AUTH, type AuthService } from "../auth/auth-service.ts";
import { CONTENT, type ContentService } from "../content/content-service.ts";
import { REGISTRY, type RegistryService } from "../registry/registry-service.ts";
import { DHT, type DhtService } from "../dht/dht.ts";
import { HIERARCHY, type HierarchyService } from "../hierarchy/hierarchy.ts";
import { NodeCore } from "../node/node.ts";
import { STATE, type StateService } from "../state/state-service.ts";
import {
  type PublishResult,
  PUBSUB,
  type PubSubService,
  type SubscribeOptions,
  type TopicPublishOptions,
} from "../pubsub/pubsub.ts";
import type { MessageHandler, Subscription } from "../pubsub/subscription.ts";
import {
  type Advertisement,
  type AdvertiseOptions,
  type CallOptions,
  RPC,
  type RpcHandler,
  type RpcService,
} from "../rpc/rpc.ts";
import { RINGS, type RingsService } from "../rings/rings-service.ts";
import { type NodeOptions, withPlugins } from "./plugins.ts";

export { defaultServices, type NodeOptions } from "./plugins.ts";

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
    const { options: opts, services } = withPlugins(options);
    return NodeCore.launch((init) => new Node(init), opts, [...services, ...(opts.services ?? [])]);
  }

  /**
   * Authorization: realm policies and authorities, the chains this node
   * holds, revocations (see `AuthService`). Throws if the node was started
   * with `auth: false`.
   */
  get auth(): AuthService {
    const auth = this.service(AUTH);
    if (!auth) throw new Error("this node runs without the auth service (auth: false)");
    return auth;
  }

  /** The Kademlia DHT. */
  get dht(): DhtService {
    return this.service(DHT)!;
  }

  /**
   * Content transfer: `publish`, `fetch`, `pin`, … (see `ContentService`).
   * Throws if the node was started with `content: false`.
   */
  get content(): ContentService {
    const content = this.service(CONTENT);
    if (!content) throw new Error("this node runs without the content service (content: false)");
    return content;
  }

  /**
   * The gatekeeper: `admit` mesh apps, list them (see `AppsService`).
   * Throws if the node was started with `apps: false` or `auth: false`.
   */
  get apps(): AppsService {
    const apps = this.service(APPS);
    if (!apps) throw new Error("this node runs without the apps service (apps: false or auth: false)");
    return apps;
  }

  /**
   * The hierarchical DHT (lookups that escalate level by level, see
   * `HierarchyService`). Throws if the node was started without `locality`.
   */
  get hierarchy(): HierarchyService {
    const hier = this.service(HIERARCHY);
    if (!hier) throw new Error("this node runs without a hierarchy (no locality)");
    return hier;
  }

  /**
   * The artifact registry: `publish`, `list`, `info`, `install` signed
   * releases (see `RegistryService`). Throws if the node runs without it.
   */
  get registry(): RegistryService {
    const registry = this.service(REGISTRY);
    if (!registry) throw new Error("this node runs without the registry service (registry: false or content: false)");
    return registry;
  }

  /** Pub/sub. */
  get pubsub(): PubSubService {
    return this.service(PUBSUB)!;
  }

  /** Replicated state: `node.state.open(name)`. Throws if the node was started with `state: false`. */
  get state(): StateService {
    const state = this.service(STATE);
    if (!state) throw new Error("this node runs without the state service (state: false)");
    return state;
  }

  /** RPC. */
  get rpc(): RpcService {
    return this.service(RPC)!;
  }

  /**
   * Rings: peer-to-peer groups over WebRTC (see `docs/rings.md`). Throws
   * unless the node was started with the WebRTC plug-ins
   * (`webrtcPlugins` in `src/webrtc/plugin.ts`).
   */
  get rings(): RingsService {
    const rings = this.service(RINGS);
    if (!rings) throw new Error("this node runs without rings (start it with the WebRTC plug-ins)");
    return rings;
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

  /**
   * Publish `payload` (any CBOR value) on `topic` to every subscriber in the
   * realm, or, with `options.scope`, to those within that level of the node's
   * locality.
   */
  publish(topic: string, payload: unknown, options: TopicPublishOptions = {}): Promise<PublishResult> {
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

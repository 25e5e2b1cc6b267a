/**
 * The scoped handle of an admitted app: every operation runs
 * `validateOperation` first (and refuses while the app is unhealthy, after
 * its proof expired or was revoked, or once withdrawn); the app's declared
 * topics are subscribed to `handleMeshEvent` and its procedures advertised
 * to `handleRpcCall`.
 *
 * @module
 */
import type { ContentService } from "../content/content-service.ts";
import type { Logger } from "../log/logger.ts";
import type { PublishResult, PubSubService } from "../pubsub/pubsub.ts";
import type { PubSubMessage, Subscription } from "../pubsub/subscription.ts";
import type { Advertisement, CallOptions, RpcService } from "../rpc/rpc.ts";
import type { VerifiedChain } from "../ucan/mod.ts";
import { MaculaError } from "../util/errors.ts";
import { encodeCbor } from "../wire/cbor.ts";
import type { AppManifest, AppOperation, MeshApp } from "./app.ts";
import { type OperationRefusalReason, OperationRefusedError } from "./errors.ts";
import { type AppHealth, HealthRecord } from "./health.ts";
import { validateOperation } from "./operation.ts";

/** Options of `AppHandle.call`: those of `RpcService.call` but the realm (the app's). */
export type AppCallOptions = Omit<CallOptions, "realm">;

/**
 * What an admitted app may do on the mesh; each method is checked against
 * its manifest and its proof chain first (`OperationRefusedError`).
 *
 * @example
 * ```ts
 * import type { AppHandle } from "./handle.ts";
 * declare const handle: AppHandle;
 * await handle.publish("io.acme.plant3.weather.updates", new TextEncoder().encode("sunny"));
 * const forecast = await handle.call("io.acme.plant3.forecast.get", { city: "Ghent" });
 * ```
 */
export interface AppHandle {
  /** What was verified at admission. */
  readonly manifest: AppManifest;
  /** The app's chain, extended to this node (the chain the node presents for it). */
  readonly chain: VerifiedChain;
  /** Publish `payload` on `topic` (needs `publish`, the topic in the API). */
  publish(topic: string, payload: unknown): Promise<PublishResult>;
  /**
   * Subscribe to `pattern` besides the declared topics (subscribed at
   * admission), delivered to `handleMeshEvent` (needs `subscribe`, the
   * pattern within a declared one).
   */
  subscribe(pattern: string): Subscription;
  /** Call `procedure` in the app's realm (needs `call`, the procedure in the API). */
  call(procedure: string, args: unknown, options?: AppCallOptions): Promise<unknown>;
  /**
   * Publish `bytes` as content of `contentType`, under the app's identity
   * (`PublishOptions.name`, so that apps whose chain covers the namespace
   * may fetch it in a closed realm); resolves with its MCID (needs
   * `provide_content`).
   */
  publishContent(contentType: string, bytes: Uint8Array, options?: { pin?: boolean }): Promise<string>;
  /** Ask the app's `provideContent(contentType, name)` for bytes and publish them; resolves with the MCID. */
  provide(contentType: string, name: string): Promise<string>;
  /**
   * Fetch content `mcid` as `contentType` (needs `consume_content`); the
   * verified bytes are handed to `contentReceived`, then returned.
   */
  fetchContent(mcid: string, contentType: string, options?: { signal?: AbortSignal }): Promise<Uint8Array>;
  /** The app's health as last checked. */
  health(): AppHealth;
  /** Leave the mesh: subscriptions and advertisements end, the chain is no longer presented. Idempotent. */
  withdraw(): Promise<void>;
}

/** What a handle needs of its node. */
export interface HandleContext {
  pubsub: PubSubService;
  rpc: RpcService;
  content?: ContentService;
  log: Logger;
  /** Wall clock, ms. */
  clock: () => number;
  /** Clock skew allowed on the proof's expiry, seconds. */
  skew: number;
  /** Count an operation's outcome. */
  count(identity: string, op: AppOperation, refused?: OperationRefusalReason): void;
  /** The app left (withdrawn): forget it. */
  onWithdraw(app: AdmittedApp): void | Promise<void>;
}

/** A payload as the app sees it: bytes, or the CBOR encoding of anything else. */
function asBytes(payload: unknown): Uint8Array {
  return payload instanceof Uint8Array ? payload : encodeCbor(payload);
}

/** An admitted app and its handle. */
export class AdmittedApp implements AppHandle {
  readonly manifest: AppManifest;
  readonly chain: VerifiedChain;
  readonly app: MeshApp;
  readonly #ctx: HandleContext;
  readonly #health: HealthRecord;
  #subs = new Set<Subscription>();
  #ads: Advertisement[] = [];
  #revoked: string | undefined;
  #withdrawn = false;

  /** The app `app` verified as `manifest`, presenting `chain`. */
  constructor(app: MeshApp, manifest: AppManifest, chain: VerifiedChain, ctx: HandleContext) {
    this.app = app;
    this.manifest = manifest;
    this.chain = chain;
    this.#ctx = ctx;
    this.#health = new HealthRecord(ctx.clock());
  }

  /** Whether the app may act now (healthy, covered, not withdrawn). */
  get active(): boolean {
    return !this.#withdrawn && this.#revoked === undefined && this.#health.healthy;
  }

  /** Why its proof no longer holds (revoked), if so. */
  get revoked(): string | undefined {
    return this.#revoked;
  }

  /** Advertised procedures now. */
  get advertised(): string[] {
    return this.#ads.map((a) => a.procedure);
  }

  #refuse(op: AppOperation, resource: string, reason: OperationRefusalReason, message: string): never {
    this.#ctx.count(this.manifest.identity, op, reason);
    throw new OperationRefusedError(reason, op, resource, message);
  }

  /** Check `op` on `resource`; throws `OperationRefusedError` (counted). */
  gate(op: AppOperation, resource: string): void {
    const id = this.manifest.identity;
    if (this.#withdrawn) this.#refuse(op, resource, "not_covered", `${id} was withdrawn`);
    if (this.#revoked !== undefined) this.#refuse(op, resource, "not_covered", this.#revoked);
    const exp = this.manifest.expires;
    if (exp !== null && this.#ctx.clock() / 1000 > exp + this.#ctx.skew) {
      this.#refuse(op, resource, "not_covered", `the proof of ${id} expired at ${new Date(exp * 1000).toISOString()}`);
    }
    if (!this.#health.healthy) {
      this.#refuse(op, resource, "unhealthy", `${id} is unhealthy: ${this.#health.get().lastError}`);
    }
    try {
      validateOperation(this.manifest, this.chain, op, resource);
    } catch (error) {
      if (error instanceof OperationRefusedError) this.#ctx.count(id, op, error.reason);
      throw error;
    }
    this.#ctx.count(id, op);
  }

  /** Subscribe the declared topics and advertise the declared procedures (throws if one is taken). */
  wire(): void {
    const { capabilities, api } = this.manifest;
    if (capabilities.includes("subscribe")) { for (const topic of api.topics) this.subscribe(topic); }
    this.#advertise();
  }

  #advertise(): void {
    const { capabilities, api, realm } = this.manifest;
    if (!capabilities.includes("register") || this.#ads.length) return;
    try {
      for (const procedure of api.procedures) {
        this.gate("register", procedure);
        this.#ads.push(this.#ctx.rpc.advertise(
          procedure,
          (args, context) => this.app.handleRpcCall(procedure, args, { caller: context.from.did }),
          { realm },
        ));
      }
    } catch (error) {
      this.#unadvertise();
      throw error;
    }
  }

  #unadvertise(): void {
    for (const ad of this.#ads.splice(0)) ad.close();
  }

  publish(topic: string, payload: unknown): Promise<PublishResult> {
    try {
      this.gate("publish", topic);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#ctx.pubsub.publish(topic, payload, { realm: this.manifest.realm });
  }

  subscribe(pattern: string): Subscription {
    this.gate("subscribe", pattern);
    const handler = (message: PubSubMessage) =>
      this.app.handleMeshEvent(message.topic, asBytes(message.payload), { publisher: message.publisher.did });
    const sub = this.#ctx.pubsub.subscribe(pattern, handler, { realm: this.manifest.realm });
    this.#subs.add(sub);
    return sub;
  }

  async call(procedure: string, args: unknown, options: AppCallOptions = {}): Promise<unknown> {
    this.gate("call", procedure);
    return await this.#ctx.rpc.call(procedure, args, { ...options, realm: this.manifest.realm });
  }

  #content(): ContentService {
    const content = this.#ctx.content;
    if (!content) throw new MaculaError("E_NO_CONTENT_SERVICE", "this node runs without the content service");
    return content;
  }

  async publishContent(contentType: string, bytes: Uint8Array, options: { pin?: boolean } = {}): Promise<string> {
    this.gate("provide_content", contentType);
    const mcid = await this.#content().publish(bytes, {
      realm: this.manifest.realm,
      pin: options.pin,
      name: this.manifest.identity,
    });
    return mcid.toString();
  }

  async provide(contentType: string, name: string): Promise<string> {
    this.gate("provide_content", contentType);
    const bytes = await this.app.provideContent(contentType, name);
    if (!(bytes instanceof Uint8Array)) {
      throw new MaculaError("E_APP_NO_CONTENT", `${this.manifest.identity} has no ${contentType} content ${name}`);
    }
    const mcid = await this.#content().publish(bytes, { realm: this.manifest.realm, name: this.manifest.identity });
    return mcid.toString();
  }

  async fetchContent(mcid: string, contentType: string, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    this.gate("consume_content", contentType);
    const stream = this.#content().fetch(mcid, { realm: this.manifest.realm, signal: options.signal });
    const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
    await this.app.contentReceived(String(mcid), contentType, bytes);
    return bytes;
  }

  health(): AppHealth {
    return this.#health.get();
  }

  /**
   * Record a health check (`problem` undefined = passed): an app turning
   * unhealthy has its advertisements withdrawn, one recovering gets them back.
   */
  recordHealth(problem: string | undefined): void {
    if (!this.#health.record(problem, this.#ctx.clock()) || this.#withdrawn) return;
    if (problem !== undefined) {
      this.#ctx.log.warn("app unhealthy: advertisements withdrawn", { app: this.manifest.identity, error: problem });
      this.#unadvertise();
    } else if (this.#revoked === undefined) {
      this.#ctx.log.info("app recovered: advertisements restored", { app: this.manifest.identity });
      try {
        this.#advertise();
      } catch (error) {
        this.#ctx.log.warn("re-advertising failed", { app: this.manifest.identity, error: (error as Error).message });
      }
    }
  }

  /** Its proof no longer holds (`why`): everything stops, operations are refused (`not_covered`). */
  revoke(why: string): void {
    if (this.#revoked !== undefined) return;
    this.#revoked = why;
    this.#ctx.log.warn("app proof revoked: app stopped", { app: this.manifest.identity, why });
    this.#close();
  }

  #close(): void {
    this.#unadvertise();
    for (const sub of this.#subs) sub.unsubscribe();
    this.#subs.clear();
  }

  async withdraw(): Promise<void> {
    if (this.#withdrawn) return;
    this.#withdrawn = true;
    this.#close();
    await this.#ctx.onWithdraw(this);
  }
}

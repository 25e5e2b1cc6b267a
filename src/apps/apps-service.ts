/**
 * The gatekeeper as a node service (`"apps"`): `admit` runs the admission
 * pipeline on a `MeshApp` and its proof, extends the proof to this node and
 * has the capability service present it, wires the app to pub/sub, RPC and
 * content, and hands back a scoped `AppHandle`. Health is checked
 * periodically; apps appear in `/status` and `/metrics`.
 *
 * @module
 */
import { AUTH, type AuthService } from "../auth/auth-service.ts";
import { CONTENT, type ContentService } from "../content/content-service.ts";
import { RealmError } from "../dht/dht.ts";
import type { KeyPair } from "../identity/ed25519.ts";
import type { NodeService, ServiceHost, ServiceKey } from "../node/service.ts";
import { serviceKey } from "../node/service.ts";
import { PUBSUB } from "../pubsub/pubsub.ts";
import { RPC } from "../rpc/rpc.ts";
import { delegate, type Delegation, signerFromKeyPair, type VerifiedChain } from "../ucan/mod.ts";
import { encodeDidKey } from "../identity/did.ts";
import { validateIdentity } from "./api-spec.ts";
import { AppsMetrics, type AppStatus } from "./apps-metrics.ts";
export type { AppStatus, OperationCounts } from "./apps-metrics.ts";
import type { MeshApp } from "./app.ts";
import { AdmissionError, type AdmissionStep } from "./errors.ts";
import { AdmittedApp, type AppHandle, type HandleContext } from "./handle.ts";
import { DEFAULT_HEALTH_INTERVAL, DEFAULT_HEALTH_TIMEOUT, probeHealth } from "./health.ts";
import { checkCallbacks, verifyClaim } from "./pipeline.ts";

/** Tunables of the apps service. */
export interface AppsOptions {
  /** Interval between health checks, ms. Default 10 000. */
  healthInterval?: number;
  /** Time `meshHealth()` has to answer, ms. Default 2 000. */
  healthTimeout?: number;
  /** Clock skew allowed on a proof's expiry, seconds. Default 60. */
  skew?: number;
  /** Wall clock, ms. Default `Date.now`. */
  clock?: () => number;
  /**
   * Whether apps may use the node's content service (`provide_content`,
   * `consume_content`). Default true; `Node.start` sets it to false for a
   * node started with `content: false`.
   */
  content?: boolean;
}

/** How to admit an app. */
export interface AdmitOptions {
  /** The app's proof: a UCAN chain, root first, from a realm authority through the namespace owner to the app's key; or the text of a container holding it. */
  proof: readonly Delegation[] | string;
  /** The app's own key (its `did:key` is the proof's last audience); signs the link from the app to this node. */
  key: KeyPair;
  /** The realm to admit it in. Default: the node's primary realm. */
  realm?: string;
}

/** The key of the apps service, for `node.service(APPS)` and `needs`. */
export const APPS: ServiceKey<AppsService> = serviceKey("apps");

/**
 * The gatekeeper service. Needs the capability service, pub/sub, RPC and
 * (unless `content: false`) content.
 *
 * @example
 * ```ts
 * import type { Node } from "../../mod.ts";
 * import type { MeshApp } from "./app.ts";
 * import { KeyPair } from "../identity/ed25519.ts";
 * declare const node: Node;
 * declare const app: MeshApp;
 * declare const proof: string; // container text: authority → namespace owner → app key
 * declare const appKey: KeyPair;
 * const handle = await node.apps.admit(app, { proof, key: appKey });
 * await handle.publish("io.acme.plant3.weather.updates", new TextEncoder().encode("sunny"));
 * ```
 */
export class AppsService implements NodeService {
  readonly name = "apps";
  readonly needs: readonly ServiceKey<NodeService>[];
  #opts: Required<Omit<AppsOptions, "content">>;
  #host!: ServiceHost;
  #auth!: AuthService;
  #deps!: Omit<HandleContext, "count" | "onWithdraw">;
  #apps = new Map<string, AdmittedApp>();
  #pending = new Set<string>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #checking = false;
  #stopped = false;
  #off: Array<() => void> = [];
  #metrics!: AppsMetrics;

  /** A service with `options` (every field has a default). */
  constructor(options: AppsOptions = {}) {
    const { content = true, ...rest } = options;
    this.#opts = {
      healthInterval: DEFAULT_HEALTH_INTERVAL,
      healthTimeout: DEFAULT_HEALTH_TIMEOUT,
      skew: 60,
      clock: Date.now,
      ...rest,
    };
    this.needs = content ? [AUTH, PUBSUB, RPC, CONTENT] : [AUTH, PUBSUB, RPC];
  }

  start(host: ServiceHost): void {
    this.#host = host;
    this.#auth = host.use(AUTH);
    const content = this.needs.includes(CONTENT) ? host.use(CONTENT) as ContentService : undefined;
    this.#deps = {
      pubsub: host.use(PUBSUB),
      rpc: host.use(RPC),
      content,
      log: host.log,
      clock: this.#opts.clock,
      skew: this.#opts.skew,
    };
    this.#metrics = new AppsMetrics(host.metrics, () => this.#apps.values());
    this.#off.push(this.#auth.on("revoked", () => this.#recheckRevocations()));
    this.#timer = setInterval(() => void this.checkHealth(), this.#opts.healthInterval);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    for (const off of this.#off.splice(0)) off();
    await Promise.all([...this.#apps.values()].map((a) => a.withdraw()));
  }

  status(): Record<string, unknown> {
    return { apps: this.list() };
  }

  /** The admitted apps. */
  list(): AppStatus[] {
    return [...this.#apps.values()].map((a) => this.#metrics.status(a));
  }

  /** The handle of the admitted app `identity`. */
  get(identity: string): AppHandle | undefined {
    return this.#apps.get(identity);
  }

  /**
   * Admit `app`: the pipeline (callbacks, identity and ownership,
   * capabilities, API entries, health), then the proof is extended with a
   * link from the app's key to this node and held by the capability service
   * (so peers see it), the declared topics are subscribed and the
   * procedures advertised. Rejects with `AdmissionError` naming the failed
   * step, or `RealmError` for a realm the node does not run in.
   */
  async admit(app: MeshApp, options: AdmitOptions): Promise<AppHandle> {
    try {
      const handle = await this.#admit(app, options);
      this.#metrics.admission("admitted");
      return handle;
    } catch (error) {
      this.#metrics.admission(error instanceof AdmissionError ? error.step : "error");
      throw error;
    }
  }

  async #admit(app: MeshApp, options: AdmitOptions): Promise<AppHandle> {
    const host = this.#host;
    if (!host || this.#stopped) throw new Error("the apps service is not running");
    const realm = options.realm ?? host.realms[0];
    if (!host.realms.includes(realm)) throw new RealmError(realm);
    checkCallbacks(app);
    const identity = validateIdentity(call(() => app.meshIdentity(), "invalid_identity"));
    if (this.#apps.has(identity) || this.#pending.has(identity)) {
      throw new AdmissionError("already_admitted", `${identity} is already admitted on this node`, { identity });
    }
    this.#pending.add(identity);
    try {
      const did = encodeDidKey(options.key.publicKey);
      const { manifest, chain } = verifyClaim({
        identity,
        capabilities: call(() => app.meshCapabilities(), "invalid_capability"),
        api: call(() => app.meshApi(), "invalid_api_entries"),
        did,
        proof: options.proof,
      }, {
        realm,
        verify: (links, audience) => this.#auth.verify(links, audience, realm),
        clock: this.#opts.clock,
        available: (c) => this.#deps.content !== undefined || (c !== "provide_content" && c !== "consume_content"),
      });
      const problem = await probeHealth(app, this.#opts.healthTimeout);
      if (problem !== undefined) throw new AdmissionError("unhealthy", problem, { error: problem });
      if (this.#stopped) throw new Error("the apps service stopped during the admission");
      const held = this.#present(chain, options.key);
      const admitted = new AdmittedApp(app, manifest, held, {
        ...this.#deps,
        count: (id, op, refused) => this.#metrics.operation(id, op, refused),
        onWithdraw: (a) => this.#forget(a),
      });
      try {
        admitted.wire();
      } catch (error) {
        await admitted.withdraw();
        throw new AdmissionError("invalid_api_entries", (error as Error).message, [], { cause: error });
      }
      this.#apps.set(identity, admitted);
      host.log.info("app admitted", { app: identity, did, namespace: manifest.namespace, realm });
      return admitted;
    } finally {
      this.#pending.delete(identity);
    }
  }

  /** Extend the app's chain to this node (signed by the app's key) and have the capability service hold it. */
  #present(chain: VerifiedChain, key: KeyPair): VerifiedChain {
    const link = delegate(signerFromKeyPair(key), {
      aud: this.#host.id.did,
      sub: chain.subject,
      cmd: "/macula",
      exp: chain.expires,
    });
    try {
      return this.#auth.addChain([...chain.links, link]);
    } catch (error) {
      throw new AdmissionError(
        "invalid_proof",
        `the node cannot hold the app's chain: ${(error as Error).message}`,
        error,
        {
          cause: error,
        },
      );
    }
  }

  #forget(app: AdmittedApp): void {
    if (this.#apps.get(app.manifest.identity) === app) {
      this.#apps.delete(app.manifest.identity);
      this.#metrics.forget(app.manifest.identity);
    }
    try {
      this.#auth.removeChain(app.chain.links[app.chain.links.length - 1].id);
    } catch { /* not held (admission rolled back before) */ }
  }

  /** After a revocation: stop every app a link of whose chain is now revoked. */
  #recheckRevocations(): void {
    for (const app of this.#apps.values()) {
      const links = app.chain.links;
      for (let i = 0; i < links.length; i++) {
        const issuers = links.slice(0, i + 1).map((l) => l.iss);
        if (this.#auth.isRevoked(links[i].id, issuers)) {
          app.revoke(`link ${i} of its proof (${links[i].id}) was revoked`);
          break;
        }
      }
    }
  }

  /** Check every app's health now (the periodic check runs this); resolves when done. */
  async checkHealth(): Promise<void> {
    if (this.#checking) return;
    this.#checking = true;
    try {
      await Promise.all([...this.#apps.values()].map(async (a) => {
        const problem = await probeHealth(a.app, this.#opts.healthTimeout);
        a.recordHealth(problem);
      }));
    } finally {
      this.#checking = false;
    }
  }
}

/** Call one of the app's declaration getters; a throw fails admission at `step`. */
function call<T>(getter: () => T, step: AdmissionStep): T {
  try {
    return getter();
  } catch (error) {
    throw new AdmissionError(step, `the app's declaration threw: ${(error as Error)?.message ?? error}`, undefined, {
      cause: error,
    });
  }
}

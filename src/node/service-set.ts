/**
 * The services a node hosts: ordered by their declared dependencies,
 * started one by one with a `ServiceHost` each, stopped in reverse order.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { Logger } from "../log/logger.ts";
import type { PeerAddress } from "../transport/address.ts";
import type { Authorize } from "./authorize.ts";
import type { NodeService, ServiceHost, ServiceKey } from "./service.ts";

/**
 * The host a service gets, minus `use`, `log` and `advertise` (the set adds
 * them per service; `advertise` calls `advertiseAs` with the service's name).
 */
export type SharedHost = Omit<ServiceHost, "use" | "log" | "advertise"> & {
  /** Set the addresses service `owner` announces in the node's record. */
  advertiseAs(owner: string, addresses: readonly PeerAddress[]): void;
};

/**
 * `services` ordered so that every service comes after those it `needs`.
 * Throws `TypeError` for two services of one name, a missing dependency or
 * a dependency cycle, naming them.
 *
 * @example
 * ```ts
 * import { orderServices } from "./service-set.ts";
 * import { serviceKey, type NodeService } from "./service.ts";
 * const a: NodeService = { name: "a", start() {}, stop() {} };
 * const b: NodeService = { name: "b", needs: [serviceKey("a")], start() {}, stop() {} };
 * orderServices([b, a]).map((s) => s.name); // ["a", "b"]
 * ```
 */
export function orderServices(services: readonly NodeService[]): NodeService[] {
  const byName = new Map<string, NodeService>();
  for (const s of services) {
    if (byName.has(s.name)) throw new TypeError(`two services are named ${JSON.stringify(s.name)}`);
    byName.set(s.name, s);
  }
  const ordered: NodeService[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (s: NodeService, path: string[]) => {
    const seen = state.get(s.name);
    if (seen === "done") return;
    if (seen === "visiting") throw new TypeError(`services depend on each other: ${[...path, s.name].join(" → ")}`);
    state.set(s.name, "visiting");
    for (const key of s.needs ?? []) {
      const dep = byName.get(key.name);
      if (!dep) {
        throw new TypeError(
          `service ${JSON.stringify(s.name)} needs ${JSON.stringify(key.name)}, which is not running`,
        );
      }
      visit(dep, [...path, s.name]);
    }
    state.set(s.name, "done");
    ordered.push(s);
  };
  for (const s of services) visit(s, []);
  return ordered;
}

/**
 * The running services of one node.
 *
 * @example
 * ```ts
 * import { ServiceSet, type SharedHost } from "./service-set.ts";
 * declare const host: SharedHost;
 * declare const log: import("../log/logger.ts").Logger;
 * const set = new ServiceSet(host, log);
 * await set.start([{ name: "noop", start() {}, stop() {} }]);
 * await set.stop();
 * ```
 */
export class ServiceSet {
  readonly #host: SharedHost;
  readonly #log: Logger;
  readonly #running: NodeService[] = [];
  #policies: Authorize[] = [];

  /** Services started here share `host`; each gets a child of `log`. */
  constructor(host: SharedHost, log: Logger) {
    this.#host = host;
    this.#log = log;
  }

  /** Start `services` in dependency order. If one fails, the error propagates (`stop` stops those started). */
  async start(services: readonly NodeService[]): Promise<void> {
    for (const service of orderServices([...this.#running, ...services])) {
      if (this.#running.includes(service)) continue;
      await service.start(this.#hostFor(service));
      this.#running.push(service);
      if (service.authorize) this.#policies = [...this.#policies, service.authorize.bind(service)];
    }
  }

  /** The node-wide policies of the running services, in start order. */
  get policies(): readonly Authorize[] {
    return this.#policies;
  }

  /** Stop every running service, in reverse start order; failures are logged. */
  async stop(): Promise<void> {
    this.#policies = [];
    for (const service of this.#running.splice(0).reverse()) {
      try {
        await service.stop();
      } catch (error) {
        this.#log.warn("service failed to stop cleanly", { service: service.name, error: (error as Error).message });
      }
    }
  }

  /** The running services, in start order. */
  get all(): readonly NodeService[] {
    return this.#running;
  }

  /** The running service of `key`, if any. */
  get<T extends NodeService>(key: ServiceKey<T> | string): T | undefined {
    const name = typeof key === "string" ? key : key.name;
    return this.#running.find((s) => s.name === name) as T | undefined;
  }

  /** Fields the services add to a peer's `/peers` entry. */
  peerInfo(id: NodeId): Record<string, unknown> {
    return Object.assign({}, ...this.#running.map((s) => s.peerInfo?.(id) ?? {}));
  }

  /** The `/status` sections of the services that report one. */
  status(): Record<string, unknown> {
    return Object.fromEntries(this.#running.filter((s) => s.status).map((s) => [s.name, s.status!()]));
  }

  #hostFor(service: NodeService): ServiceHost {
    const declared = new Set((service.needs ?? []).map((k) => k.name));
    const get = <T extends NodeService>(key: ServiceKey<T>) => this.get(key);
    const host = this.#host;
    return Object.assign(Object.create(host) as SharedHost, {
      log: this.#log.child({ service: service.name }),
      advertise: (addresses: readonly PeerAddress[]) => host.advertiseAs(service.name, addresses),
      use<T extends NodeService>(key: ServiceKey<T>): T {
        if (!declared.has(key.name)) {
          throw new TypeError(`service ${service.name} uses ${key.name} without declaring it in needs`);
        }
        return get(key)!;
      },
    }) as ServiceHost;
  }
}

/**
 * Gossip of revocations (`"auth-gossip"`): in every guarded realm the node
 * runs in (closed, or with authorities configured), subscribe to the
 * internal topic `REVOCATION_TOPIC` and publish each revocation made here
 * on it. Pub/sub delivers it to every subscriber node; a receiver checks
 * and stores it and forwards nothing. Nodes that were offline catch up on
 * connect (the auth service's anti-entropy). A separate service so that the
 * auth service, which needs nothing, starts before every other one.
 *
 * @module
 */
import { PUBSUB, type PubSubService } from "../pubsub/pubsub.ts";
import type { Subscription } from "../pubsub/subscription.ts";
import type { NodeService, ServiceHost, ServiceKey } from "../node/service.ts";
import { AUTH, type AuthService, REVOCATION_TOPIC } from "./auth-service.ts";
import { MAX_REVOCATION_BYTES } from "./revocation-store.ts";

/**
 * The gossip service (`Node.start` adds it with the auth service).
 *
 * @example
 * ```ts
 * import { RevocationGossip } from "./revocation-gossip.ts";
 * import { AuthService } from "./auth-service.ts";
 * const services = [new AuthService({ realms: { plant: { policy: "closed" } } }), new RevocationGossip()];
 * ```
 */
export class RevocationGossip implements NodeService {
  readonly name = "auth-gossip";
  readonly needs: readonly ServiceKey<AuthService | PubSubService>[] = [AUTH, PUBSUB];
  #subs: Subscription[] = [];
  #off: Array<() => void> = [];
  #realms: string[] = [];

  start(host: ServiceHost): void {
    const auth = host.use(AUTH);
    const pubsub = host.use(PUBSUB);
    this.#realms = auth.guardedRealms().filter((r) => host.realms.includes(r));
    for (const realm of this.#realms) {
      this.#subs.push(pubsub.subscribe(REVOCATION_TOPIC, (message) => {
        const bytes = message.payload;
        if (!(bytes instanceof Uint8Array) || bytes.length > MAX_REVOCATION_BYTES) return;
        auth.receiveRevocation(bytes).catch((error) =>
          host.log.debug("a gossiped revocation does not check out", {
            from: message.publisher.short,
            error: (error as Error).message,
          })
        );
      }, { realm }));
    }
    this.#off.push(auth.on("revocation", (bytes) => {
      for (const realm of this.#realms) {
        pubsub.publish(REVOCATION_TOPIC, bytes, { realm }).catch((error) =>
          host.log.warn("gossiping a revocation failed", { realm, error: (error as Error).message })
        );
      }
    }));
  }

  stop(): void {
    for (const off of this.#off.splice(0)) off();
    for (const sub of this.#subs.splice(0)) sub.unsubscribe();
  }
}

/**
 * Test helper: SWIM engines on an in-process datagram network with
 * configurable loss, partitions and frozen nodes.
 */
import { KeyPair } from "../../src/identity/ed25519.ts";
import { createNodeRecord } from "../../src/identity/node-record.ts";
import type { SocketAddress } from "../../src/platform/types.ts";
import { formatEndpoint } from "../../src/cluster/endpoint.ts";
import { ClusterKey } from "../../src/cluster/hmac.ts";
import type { SwimTimings } from "../../src/cluster/options.ts";
import { type MembershipEvent, Swim } from "../../src/cluster/swim/swim.ts";
import { signerOf } from "../../src/identity/domain-signature.ts";

/** Fast timings for in-process tests (suspicion floor 400 ms at n = 10). */
export const FAST: Partial<SwimTimings> = {
  probeInterval: 100,
  probeTimeout: 40,
  gossipInterval: 50,
  announceInterval: 500,
};

export interface SimNode {
  swim: Swim;
  endpoint: string;
  events: MembershipEvent[];
}

/** An in-process datagram network. */
export class SimNet {
  nodes: SimNode[] = [];
  /** Drop probability per datagram. */
  loss = 0;
  /** Endpoints that neither send nor receive (crashed or frozen). */
  down = new Set<string>();
  /** Pairs that cannot reach each other: `a|b`. */
  cut = new Set<string>();
  delivered = 0;

  add(options: { secret?: string; timings?: Partial<SwimTimings> } = {}): SimNode {
    const kp = KeyPair.generate();
    const endpoint = `10.0.${Math.floor(this.nodes.length / 250)}.${(this.nodes.length % 250) + 1}:7946`;
    const record = createNodeRecord(kp, { addrs: [`quic://${endpoint.split(":")[0]}:9443`], realms: ["default"] });
    const events: MembershipEvent[] = [];
    const swim = new Swim({
      signer: signerOf(kp),
      key: options.secret ? ClusterKey.fromSecret(options.secret) : undefined,
      timings: { ...FAST, ...options.timings },
      endpoints: () => [endpoint],
      record: () => record,
      send: (to, bytes) => this.#send(endpoint, to, bytes),
    });
    swim.events.on("change", (e) => events.push(e));
    const node = { swim, endpoint, events };
    this.nodes.push(node);
    return node;
  }

  #send(from: string, to: SocketAddress, bytes: Uint8Array): void {
    const dest = formatEndpoint(to);
    if (this.down.has(from) || this.down.has(dest)) return;
    if (this.cut.has(`${from}|${dest}`) || this.cut.has(`${dest}|${from}`)) return;
    if (Math.random() < this.loss) return;
    const target = this.nodes.find((n) => n.endpoint === dest);
    if (!target) return;
    const [host, port] = from.split(":");
    setTimeout(() => {
      if (this.down.has(dest)) return;
      this.delivered++;
      target.swim.receive(bytes, { hostname: host, port: Number(port) });
    }, Math.random() * 2);
  }

  /** Everyone announces to everyone (what multicast does). */
  announceAll(): void {
    for (const a of this.nodes) {
      const bytes = a.swim.announcement(true)!;
      for (const b of this.nodes) {
        if (a !== b) this.#send(a.endpoint, { hostname: b.endpoint.split(":")[0], port: 7946 }, bytes);
      }
    }
  }

  /** Does `a` see `b` in `state`? */
  sees(a: SimNode, b: SimNode, state: string): boolean {
    return a.swim.members.get(b.swim.id)?.state === state;
  }

  /** Does every node (except `except`) see every other one alive? */
  converged(except: SimNode[] = []): boolean {
    const live = this.nodes.filter((n) => !except.includes(n));
    return live.every((a) => live.every((b) => a === b || this.sees(a, b, "alive")));
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.swim.stop()));
  }
}

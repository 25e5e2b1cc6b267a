/**
 * SWIM failure detection: one member probed per interval (round-robin over
 * a shuffled list), a direct ping, then ping-req through `k` others when no
 * ack arrives in time. A relay pings with the requester's nonce and
 * forwards the target's own signed ack (so a relay cannot vouch for a dead
 * node), or answers with a nack (Lifeguard: a requester that gets no nacks
 * either is probably the slow one). Probe outcomes feed the local health
 * multiplier; a probe during which our own event loop stalled accuses no one.
 *
 * @module
 */
import { monotonic } from "../clock.ts";
import type { NodeId } from "../../identity/node-id.ts";
import type { SocketAddress } from "../../platform/types.ts";
import { sleep } from "../../util/async.ts";
import { equals, toHex } from "../../util/bytes.ts";
import { parseEndpoint } from "../endpoint.ts";
import { type Message, PROBE_NONCE_LENGTH } from "../messages.ts";
import type { ClusterMetrics } from "../metrics.ts";
import type { SwimTimings } from "../options.ts";
import type { LocalHealth, StallDetector } from "./health.ts";
import type { Member, Membership } from "./membership.ts";

/** What the prober needs from the engine. */
export interface ProberHost {
  readonly self: NodeId;
  readonly timings: SwimTimings;
  readonly members: Membership;
  readonly health: LocalHealth;
  readonly stall: StallDetector;
  readonly metrics: ClusterMetrics;
  /** Build (piggybacking updates), seal and send a message. */
  send(to: SocketAddress | string, msg: Message): void;
  /** Authenticate a forwarded datagram; null if it was dropped (and counted). */
  open(raw: Uint8Array): { sender: NodeId; msg: Message } | null;
  /** Count a datagram dropped as inconsistent. */
  mismatch(): void;
  /** A probe of `member` failed: suspect it. */
  failed(member: Member): void;
}

interface PendingProbe {
  target: NodeId;
  nacks: number;
  done: (how: "direct" | "indirect") => void;
}

interface Relay {
  target: NodeId;
  requester: SocketAddress;
  timer: ReturnType<typeof setTimeout>;
  expires: ReturnType<typeof setTimeout>;
}

/** Most ping-req relays served at once. */
const MAX_RELAYS = 256;

/** Shuffle in place (Fisher-Yates) and return the array. */
export function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/**
 * The probe loop and the ack / nack / ping-req / forward-ack handling.
 *
 * @example
 * ```ts
 * import type { ProberHost } from "./prober.ts";
 * import { Prober } from "./prober.ts";
 * declare const host: ProberHost;
 * const prober = new Prober(host);
 * const stop = new AbortController();
 * prober.run(stop.signal);
 * stop.abort();
 * prober.stop();
 * ```
 */
export class Prober {
  #h: ProberHost;
  #pending = new Map<string, PendingProbe>();
  #relays = new Map<string, Relay>();
  #order: Member[] = [];
  #stopped = false;

  constructor(host: ProberHost) {
    this.#h = host;
  }

  /** Probe until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const t = this.#h.timings;
    await sleep(Math.random() * t.probeInterval, signal).catch(() => {});
    while (!signal.aborted && !this.#stopped) {
      const start = monotonic();
      const interval = t.probeInterval * this.#h.health.multiplier;
      const target = this.#next();
      if (target) await this.#probe(target, interval);
      await sleep(Math.max(0, start + interval - monotonic()), signal).catch(() => {});
    }
  }

  /** Drop relays and pending probes. */
  stop(): void {
    this.#stopped = true;
    for (const r of this.#relays.values()) clearTimeout(r.timer), clearTimeout(r.expires);
    this.#relays.clear();
  }

  /**
   * Probe `m` next. Used for a member that just became suspect: an
   * independent confirmation (or the evidence that lets it refute) comes
   * one probe later instead of up to a whole round-robin later.
   */
  prioritize(m: Member): void {
    this.#order = this.#order.filter((x) => x !== m);
    this.#order.push(m);
  }

  #next(): Member | undefined {
    while (this.#order.length > 0) {
      const m = this.#order.pop()!;
      if ((m.state === "alive" || m.state === "suspect") && this.#h.members.get(m.id) === m) return m;
    }
    this.#order = shuffle(this.#h.members.live());
    return this.#order.pop();
  }

  async #probe(m: Member, interval: number): Promise<void> {
    const h = this.#h;
    const start = monotonic();
    const nonce = crypto.getRandomValues(new Uint8Array(PROBE_NONCE_LENGTH));
    const key = toHex(nonce);
    let result: "direct" | "indirect" | null = null;
    let wake = () => {};
    const probe: PendingProbe = { target: m.id, nacks: 0, done: (how) => (result ??= how, wake()) };
    const waitUntil = (deadline: number) =>
      new Promise<void>((resolve) => {
        if (result) return resolve();
        const timer = setTimeout(resolve, Math.max(0, deadline - monotonic()));
        wake = () => (clearTimeout(timer), resolve());
      });
    this.#pending.set(key, probe);
    try {
      h.send(m.addr, { type: "ping", nonce, target: m.id, relayed: false, updates: [] });
      await waitUntil(start + h.timings.probeTimeout * h.health.multiplier);
      let relays = 0;
      if (!result && !this.#stopped) {
        const others = shuffle(h.members.live().filter((x) => x !== m && x.state === "alive"));
        for (const r of others.slice(0, h.timings.indirectChecks)) {
          h.send(r.addr, { type: "ping-req", nonce, target: m.id, addr: m.addr, updates: [] });
          relays++;
        }
        await waitUntil(start + interval);
      }
      if (this.#stopped) return;
      if (result) {
        h.health.apply(-1);
        h.metrics.probes.inc({ result: result === "direct" ? "ack" : "indirect_ack" });
        return;
      }
      if (h.stall.stalledSince(start)) {
        // Our own event loop stalled during the probe: no evidence against the target.
        h.health.apply(1);
        h.metrics.probes.inc({ result: "stalled" });
        return;
      }
      h.health.apply(relays === 0 ? 1 : Math.max(0, relays - probe.nacks));
      h.metrics.probes.inc({ result: "failed" });
      if (h.members.get(m.id) === m && (m.state === "alive" || m.state === "suspect")) h.failed(m);
    } finally {
      this.#pending.delete(key);
    }
  }

  /** An ack: ends our probe, or is forwarded to whoever asked us to relay. */
  onAck(sender: NodeId, nonce: Uint8Array, raw: Uint8Array): void {
    const key = toHex(nonce);
    const p = this.#pending.get(key);
    if (p && p.target.equals(sender)) return p.done("direct");
    const r = this.#relays.get(key);
    if (r && r.target.equals(sender)) {
      clearTimeout(r.timer);
      clearTimeout(r.expires);
      this.#relays.delete(key);
      this.#h.send(r.requester, { type: "forward-ack", nonce, inner: raw, updates: [] });
    }
  }

  /** A relay could not reach our target either. */
  onNack(nonce: Uint8Array): void {
    const p = this.#pending.get(toHex(nonce));
    if (p) p.nacks++;
  }

  /** Probe `target` at `addr` for `requester`. */
  onPingReq(nonce: Uint8Array, target: NodeId, addr: string, requester: SocketAddress): void {
    const h = this.#h;
    const to = parseEndpoint(addr);
    const key = toHex(nonce);
    if (!to || target.equals(h.self) || this.#relays.has(key) || this.#relays.size >= MAX_RELAYS) return;
    const mult = h.health.multiplier;
    const timer = setTimeout(
      () => h.send(requester, { type: "nack", nonce, updates: [] }),
      h.timings.probeTimeout * mult,
    );
    const expires = setTimeout(() => this.#relays.delete(key), h.timings.probeInterval * mult);
    this.#relays.set(key, { target, requester, timer, expires });
    h.send(to, { type: "ping", nonce, target, relayed: true, updates: [] });
  }

  /** A relay forwarded the target's ack: it counts only if the target signed it for our nonce. */
  onForwardAck(nonce: Uint8Array, inner: Uint8Array): void {
    const p = this.#pending.get(toHex(nonce));
    if (!p) return;
    const opened = this.#h.open(inner);
    if (!opened) return;
    const { sender, msg } = opened;
    if (!sender.equals(p.target) || msg.type !== "ack" || !equals(msg.nonce, nonce)) return this.#h.mismatch();
    p.done("indirect");
  }
}

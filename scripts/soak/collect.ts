/**
 * What the soak orchestrator learns from its nodes' event lines
 * (`scripts/soak/node.ts`), per host and per process incarnation: when each
 * was spawned, ready, killed and exited; what was published and received;
 * calls, probes and first served calls; RSS samples; log lines of note,
 * violations, uncaught errors and stderr output.
 *
 * @module
 */
import { classifyLog, type RssSample } from "./report.ts";

/** The role each host plays. */
export type Role = "publisher" | "caller" | "subscriber" | "provider";

/** One process of one host. */
export interface Incarnation {
  spawnedAt: number;
  readyAt?: number;
  /** When the orchestrator SIGKILLed it (a planned fault). */
  killedAt?: number;
  exitedAt?: number;
  exitCode?: number;
  /** Whether its exit was planned (a fault kill, or the end of the run). */
  planned: boolean;
  /** Subscriber: when its first message arrived. Provider: first served call of each kind. */
  first?: number;
  served: Record<string, number>;
}

/** One RPC call or probe. */
export interface Call {
  n?: number;
  p?: number;
  t0: number;
  t1: number;
  ok: boolean;
  by?: number;
  error?: string;
}

/** Everything known about one host. */
export interface HostRecord {
  index: number;
  role: Role;
  did: string;
  addrs: string[];
  incarnations: Incarnation[];
  rss: RssSample[];
  /** Subscriber: receive count per seq (index seq − 1). */
  received: number[];
  latencies: number[];
  logCounts: Record<string, number>;
  violations: string[];
  /** Unplanned exits, uncaught errors, error-level log lines, errors printed on stderr. */
  crashes: string[];
  /** Other failures of note (a publish that threw, unparsable output). */
  errors: string[];
  handlerFailures: number;
  stderr: string[];
}

/** The state of a run. */
export class Collector {
  readonly hosts: HostRecord[];
  /** Publish time of each seq (index seq − 1). */
  readonly publishedAt: number[] = [];
  readonly calls: Call[] = [];
  readonly probes: Call[] = [];
  knownSubscribers = 0;
  warmCalls = 0;
  publisherDone = false;
  callerDone = false;
  #waiters = new Set<() => void>();

  constructor(roles: Role[]) {
    this.hosts = roles.map((role, index) => ({
      index,
      role,
      did: "",
      addrs: [],
      incarnations: [],
      rss: [],
      received: [],
      latencies: [],
      logCounts: {},
      violations: [],
      crashes: [],
      errors: [],
      handlerFailures: 0,
      stderr: [],
    }));
  }

  /** The current (last) incarnation of a host. */
  current(index: number): Incarnation | undefined {
    const list = this.hosts[index].incarnations;
    return list[list.length - 1];
  }

  /** A process was spawned for `index`. */
  spawned(index: number, at: number): Incarnation {
    const inc: Incarnation = { spawnedAt: at, planned: false, served: {} };
    this.hosts[index].incarnations.push(inc);
    return inc;
  }

  /** Resolve once `predicate` holds (checked after each event), or reject after `ms`. */
  until(predicate: () => boolean, ms: number, what: string): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${ms / 1000} s waiting for ${what}`));
      }, ms);
      const cleanup = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
    });
  }

  /** Take one stdout line of incarnation `inc` of host `index`. */
  line(index: number, inc: Incarnation, text: string): void {
    const host = this.hosts[index];
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(text);
    } catch {
      host.errors.push(`unparsable output: ${text.slice(0, 200)}`);
      return;
    }
    const at = Number(e.at);
    switch (e.ev) {
      case "ready":
        inc.readyAt = at;
        if (host.did && host.did !== e.did) host.violations.push(`identity changed on restart: ${host.did} → ${e.did}`);
        host.did = String(e.did);
        host.addrs = e.addrs as string[];
        break;
      case "rss":
        host.rss.push({ t: at, rss: Number(e.rss) });
        break;
      case "log": {
        const msg = String(e.msg);
        host.logCounts[msg] = (host.logCounts[msg] ?? 0) + 1;
        const kind = classifyLog(e);
        if (kind === "violation") host.violations.push(`${msg}: ${e.error ?? ""}`);
        if (kind === "error") host.crashes.push(`${msg}: ${e.error ?? ""}`);
        if (kind === "handler") host.handlerFailures++;
        break;
      }
      case "uncaught":
        host.crashes.push(`uncaught: ${e.error}`);
        break;
      case "error":
        host.errors.push(`${e.what} failed: ${e.error}`);
        break;
      case "violation":
        host.violations.push(`${e.what} ${JSON.stringify(e)}`);
        break;
      case "known":
        this.knownSubscribers = Number(e.n);
        break;
      case "warm":
        if (e.ok) this.warmCalls++;
        break;
      case "pub": {
        const times = e.t as number[];
        times.forEach((t, i) => this.publishedAt[Number(e.first) - 1 + i] = t);
        break;
      }
      case "recv": {
        const seqs = e.s as number[];
        for (const s of seqs) host.received[s - 1] = (host.received[s - 1] ?? 0) + 1;
        host.latencies.push(...(e.l as number[]));
        break;
      }
      case "first":
        inc.first = Number(e.t);
        break;
      case "served":
        inc.served[String(e.kind)] = Number(e.t);
        break;
      case "call":
        this.calls.push(e as unknown as Call);
        break;
      case "probe":
        this.probes.push(e as unknown as Call);
        break;
      case "done":
        if (host.role === "publisher") this.publisherDone = true;
        if (host.role === "caller") this.callerDone = true;
        break;
    }
    for (const check of [...this.#waiters]) check();
  }

  /** Take one stderr line of host `index`. */
  stderrLine(index: number, text: string): void {
    if (!text.trim()) return;
    const host = this.hosts[index];
    host.stderr.push(text);
    if (/error|panic/i.test(text)) host.crashes.push(`stderr: ${text.slice(0, 300)}`);
  }

  /** A process exited. */
  exited(index: number, inc: Incarnation, at: number, code: number): void {
    inc.exitedAt = at;
    inc.exitCode = code;
    if (!inc.planned) this.hosts[index].crashes.push(`crash: process exited with code ${code} unplanned`);
    for (const check of [...this.#waiters]) check();
  }
}

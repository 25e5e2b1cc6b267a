/**
 * Test harness: a small Internet of network namespaces with NAT routers.
 *
 * ```
 *  p0 203.0.113.10 ─┐
 *  p1 203.0.113.11 ─┤ bridge "pub" (203.0.113.0/24)
 *                   └─ core 203.0.113.1 ── 198.51.100.(4k+1)/30 ── router k (wan 198.51.100.(4k+2))
 *                                                                    └─ lan 10.<k+1>.0.1/24 ── host 10.<k+1>.0.10
 * ```
 *
 * - public hosts (`lab.publicHost(i)`) sit on one bridge with the core router,
 *   203.0.113.(10+i), default route via the core (203.0.113.1);
 * - the core router forwards between the public segment and every site (one
 *   veth pair per site, 198.51.100.(4k)/30). It has no route to any 10.x
 *   network, so private addresses are unreachable from outside, and a packet a
 *   private host sends with TTL 2 dies in the core (hop 1: its NAT router,
 *   hop 2: the core);
 * - site k (0-based, `n = k + 1`) has a NAT router (`wan` 198.51.100.(4k+2),
 *   `lan` 10.n.0.1/24) and one private host 10.n.0.10 (`lab.host(site)`),
 *   default route via its router. Profiles (iptables in the router):
 *   - `home`: `MASQUERADE` on wan (endpoint-independent mapping: the source
 *     port is kept across destinations), `INPUT` and `FORWARD` drop NEW from wan;
 *   - `accepting`: like home, but `INPUT` accepts unsolicited packets (they
 *     reach the router itself and leave an [UNREPLIED] conntrack entry);
 *   - `symmetric`: `MASQUERADE --random-fully` (a new public port per
 *     destination: endpoint-dependent), drops like home;
 *   - `udp-blocked`: like home, and only TCP is forwarded outbound;
 *   - `double-nat`: home router, then an inner home router `lab.innerRouter(site)`
 *     (wan 10.n.0.2, lan 10.n.1.1/24) and the host at 10.n.1.10 (one hop
 *     more: its TTL-2 packets die in the outer router, TTL 3 in the core);
 *   - `port-forwarded`: home + DNAT of `forwardPort` (default 9443, UDP and
 *     TCP) on the router's wan address to the host: publicly reachable at
 *     `lab.routerWan(site):forwardPort`.
 *
 * Namespaces are named `<prefix>-<pid>x<rand>-…`; `create()` first removes
 * leftovers of runs whose process is gone, `destroy()` kills every process
 * group it spawned and deletes its namespaces. Needs root, `ip`, `iptables`
 * (see `netnsUnavailable()` in `netns.ts`) and, for `flushConntrack()`,
 * `conntrack` (conntrack-tools; `conntrackUnavailable()` says why not).
 *
 * @module
 */
import { cleanStaleLabs } from "./netns.ts";
import { followStartLog, startPermissions } from "./cli.ts";
import { forEachLine, sh } from "../../scripts/process.ts";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** Router behaviour of a site (see the module doc). */
export type NatProfile = "home" | "accepting" | "symmetric" | "udp-blocked" | "double-nat" | "port-forwarded";

/** Every profile, in a stable order. */
export const NAT_PROFILES: readonly NatProfile[] = [
  "home",
  "accepting",
  "symmetric",
  "udp-blocked",
  "double-nat",
  "port-forwarded",
];

/** One site: a NAT router and a private host behind it. */
export interface SiteOptions {
  /** Lower-case letters/digits, at most 8, starting with a letter; unique in the lab. */
  name: string;
  profile: NatProfile;
  /** `port-forwarded` only: the port forwarded (UDP and TCP) to the host. Default 9443. */
  forwardPort?: number;
}

/** Options of `NatLab.create`. */
export interface NatLabOptions {
  /** 4 lower-case letters starting every namespace name (unique per test file, e.g. "natl"). */
  prefix: string;
  /** Number of hosts on the public segment (1-200). */
  publicHosts: number;
  /** NAT sites (0-60). */
  sites: SiteOptions[];
}

/** A process spawned in a namespace, in its own process group. */
export interface LabProcess {
  /** Namespace it runs in. */
  ns: string;
  child: Deno.ChildProcess;
  /** Process id = process group id. */
  pid: number;
  /** Resolves when it exits. */
  exited: Promise<Deno.CommandStatus>;
  /** Signal the whole process group (ignores "already gone"). */
  kill(signal?: Deno.Signal): void;
}

/** A running `nat_probe.ts` with JSON lines on stdout. */
export interface ProbeProcess extends LabProcess {
  /** The next JSON line it prints (rejects if it exits first or after `ms`). */
  next(ms?: number): Promise<Record<string, unknown>>;
}

/** A `macula start` running in a lab namespace. */
export interface LabNode {
  /** Namespace it runs in. */
  ns: string;
  /** The process (its own group). */
  proc: LabProcess;
  /** Its did:key (from the "node started" log line). */
  did: string;
  /** Its JSON log lines so far. */
  logs: Array<Record<string, unknown>>;
  /** Its data directory, relative to the repository root. */
  dataDir: string;
}

interface Site extends SiteOptions {
  index: number;
  router: string;
  inner?: string;
  host: string;
  wan: string;
  privateAddr: string;
}

const PROBE = new URL("./nat_probe.ts", import.meta.url).pathname;

/** Why `flushConntrack()` cannot work here, or null if it can. */
export async function conntrackUnavailable(): Promise<string | null> {
  try {
    const out = await new Deno.Command("conntrack", { args: ["--version"], stdout: "null", stderr: "null" }).output();
    return out.success ? null : "conntrack --version failed";
  } catch {
    return "conntrack is not installed (apt-get install conntrack)";
  }
}

function ruleset(profile: NatProfile, forward?: { host: string; port: number }): string {
  const nat = [`-A POSTROUTING -o wan -j MASQUERADE${profile === "symmetric" ? " --random-fully" : ""}`];
  const filter: string[] = [];
  if (profile !== "accepting") filter.push("-A INPUT -i wan -m conntrack --ctstate NEW -j DROP");
  if (forward) {
    for (const proto of ["udp", "tcp"]) {
      nat.push(`-A PREROUTING -i wan -p ${proto} --dport ${forward.port} -j DNAT --to-destination ${forward.host}`);
    }
    filter.push("-A FORWARD -i wan -m conntrack --ctstate DNAT -j ACCEPT");
  }
  filter.push("-A FORWARD -i wan -m conntrack --ctstate NEW -j DROP");
  if (profile === "udp-blocked") filter.push("-A FORWARD -i lan ! -p tcp -j DROP");
  return ["*nat", ...nat, "COMMIT", "*filter", ...filter, "COMMIT", ""].join("\n");
}

/**
 * `proc` with `next()`: its stdout read as JSON lines, one per call, in
 * order (`label` names it in errors; `defaultMs` is the default wait).
 */
export function jsonLines(proc: LabProcess, label: string, defaultMs: number): ProbeProcess {
  const queue: Array<Record<string, unknown>> = [];
  const waiters: Array<(v: Record<string, unknown> | null) => void> = [];
  let ended = false;
  forEachLine(proc.child.stdout, (line) => {
    const value = JSON.parse(line);
    const w = waiters.shift();
    if (w) w(value);
    else queue.push(value);
  }).catch(() => {}).finally(() => {
    ended = true;
    for (const w of waiters.splice(0)) w(null);
  });
  return {
    ...proc,
    next(ms = defaultMs) {
      if (queue.length) return Promise.resolve(queue.shift()!);
      if (ended) return Promise.reject(new Error(`${label} exited`));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${label}: no output after ${ms} ms`)), ms);
        waiters.push((v) => {
          clearTimeout(timer);
          if (v) resolve(v);
          else reject(new Error(`${label} exited`));
        });
      });
    },
  };
}

/**
 * Public hosts, a core router and NAT sites.
 *
 * @example
 * ```ts
 * import { NatLab } from "./nat_lab.ts";
 * const lab = await NatLab.create({ prefix: "natx", publicHosts: 2, sites: [{ name: "a", profile: "home" }] });
 * try {
 *   const echo = await lab.spawnProbe(lab.publicHost(0), ["echo", lab.publicAddr(0), "7000"]);
 *   await echo.next();
 *   console.log(await lab.probe(lab.host("a"), ["ask", "udp", `${lab.publicAddr(0)}:7000`]));
 * } finally {
 *   await lab.destroy();
 * }
 * ```
 */
export class NatLab {
  /** Common start of every namespace name of this lab. */
  readonly run: string;
  /** Namespace of the core router. */
  readonly core: string;
  /** Namespace holding the public bridge. */
  readonly bridge: string;
  readonly #publicHosts: string[];
  readonly #sites = new Map<string, Site>();
  readonly #processes: LabProcess[] = [];
  #destroyed = false;

  private constructor(run: string, publicHosts: number, sites: SiteOptions[]) {
    this.run = run;
    this.core = `${run}-core`;
    this.bridge = `${run}-pub`;
    this.#publicHosts = Array.from({ length: publicHosts }, (_, i) => `${run}-p${i}`);
    sites.forEach((s, k) => {
      const n = k + 1;
      const double = s.profile === "double-nat";
      this.#sites.set(s.name, {
        ...s,
        index: k,
        router: `${run}-r${s.name}`,
        inner: double ? `${run}-i${s.name}` : undefined,
        host: `${run}-h${s.name}`,
        wan: `198.51.100.${4 * k + 2}`,
        privateAddr: double ? `10.${n}.1.10` : `10.${n}.0.10`,
      });
    });
  }

  /** Build the lab (cleaning leftovers of crashed runs first). */
  static async create(options: NatLabOptions): Promise<NatLab> {
    if (!/^[a-z]{4}$/.test(options.prefix)) throw new RangeError("prefix: 4 lower-case letters");
    if (options.publicHosts < 1 || options.publicHosts > 200) throw new RangeError("publicHosts: 1-200");
    if (options.sites.length > 60) throw new RangeError("sites: at most 60");
    const names = new Set<string>();
    for (const s of options.sites) {
      if (!/^[a-z][a-z0-9]{0,7}$/.test(s.name) || names.has(s.name)) throw new RangeError(`bad site name ${s.name}`);
      if (!NAT_PROFILES.includes(s.profile)) throw new RangeError(`unknown profile ${s.profile}`);
      names.add(s.name);
    }
    await cleanStaleLabs();
    // No "x" in the random part: `cleanStaleLabs` reads the pid up to the last "x" (else it may remove a live lab).
    const run = `${options.prefix}-${Deno.pid.toString(36)}x${
      Math.random().toString(36).slice(2, 5).replaceAll("x", "y")
    }`;
    const lab = new NatLab(run, options.publicHosts, options.sites);
    try {
      await lab.#build();
      return lab;
    } catch (error) {
      await lab.destroy();
      throw error;
    }
  }

  async #build(): Promise<void> {
    const sites = [...this.#sites.values()];
    const root: string[] = [`netns add ${this.bridge}`, `netns add ${this.core}`];
    const perNs = new Map<string, string[]>();
    const lines = (ns: string) => perNs.get(ns) ?? perNs.set(ns, []).get(ns)!;
    const forwarding = (ns: string) => this.exec(ns, ["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    lines(this.bridge).push("link add br0 type bridge", "link set br0 up", "link set lo up");
    // Veth ends are created right inside their namespaces: names only need to be unique there.
    root.push(`link add pub netns ${this.core} type veth peer name core netns ${this.bridge}`);
    lines(this.bridge).push("link set core master br0", "link set core up");
    lines(this.core).push("addr add 203.0.113.1/24 dev pub", "link set pub up", "link set lo up");
    this.#publicHosts.forEach((ns, i) => {
      root.push(`netns add ${ns}`, `link add eth0 netns ${ns} type veth peer name p${i} netns ${this.bridge}`);
      lines(this.bridge).push(`link set p${i} master br0`, `link set p${i} up`);
      lines(ns).push(
        `addr add ${this.publicAddr(i)}/24 dev eth0`,
        "link set eth0 up",
        "link set lo up",
        "route add default via 203.0.113.1",
      );
    });
    for (const s of sites) {
      const n = s.index + 1;
      root.push(
        `netns add ${s.router}`,
        `netns add ${s.host}`,
        `link add s${s.index} netns ${this.core} type veth peer name wan netns ${s.router}`,
      );
      lines(this.core).push(`addr add 198.51.100.${4 * s.index + 1}/30 dev s${s.index}`, `link set s${s.index} up`);
      lines(s.router).push(
        `addr add ${s.wan}/30 dev wan`,
        "link set wan up",
        "link set lo up",
        `route add default via 198.51.100.${4 * s.index + 1}`,
      );
      let lanOwner = s.router;
      if (s.inner) {
        root.push(`netns add ${s.inner}`, `link add lan netns ${s.router} type veth peer name wan netns ${s.inner}`);
        lines(s.router).push(`addr add 10.${n}.0.1/24 dev lan`, "link set lan up");
        lines(s.inner).push(
          `addr add 10.${n}.0.2/24 dev wan`,
          "link set wan up",
          "link set lo up",
          `route add default via 10.${n}.0.1`,
        );
        lanOwner = s.inner;
      }
      const gw = s.inner ? `10.${n}.1.1` : `10.${n}.0.1`;
      root.push(`link add lan netns ${lanOwner} type veth peer name eth0 netns ${s.host}`);
      lines(lanOwner).push(`addr add ${gw}/24 dev lan`, "link set lan up");
      lines(s.host).push(
        `addr add ${s.privateAddr}/24 dev eth0`,
        "link set eth0 up",
        "link set lo up",
        `route add default via ${gw}`,
      );
    }
    await sh("ip", ["-batch", "-"], root.join("\n") + "\n");
    await Promise.all([...perNs].map(([ns, l]) => sh("ip", ["-n", ns, "-batch", "-"], l.join("\n") + "\n")));
    await forwarding(this.core);
    await Promise.all(sites.map(async (s) => {
      await forwarding(s.router);
      const forward = s.profile === "port-forwarded" ? { host: s.privateAddr, port: s.forwardPort ?? 9443 } : undefined;
      await sh("ip", ["netns", "exec", s.router, "iptables-restore", "-w"], ruleset(s.profile, forward));
      if (s.inner) {
        await forwarding(s.inner);
        await sh("ip", ["netns", "exec", s.inner, "iptables-restore", "-w"], ruleset("home"));
      }
    }));
  }

  #site(name: string): Site {
    const s = this.#sites.get(name);
    if (!s) throw new RangeError(`no site ${name}`);
    return s;
  }

  /** Names of the sites, in creation order. */
  get sites(): string[] {
    return [...this.#sites.keys()];
  }

  /** Namespace of public host `i`. */
  publicHost(i: number): string {
    if (!this.#publicHosts[i]) throw new RangeError(`no public host ${i}`);
    return this.#publicHosts[i];
  }

  /** Address of public host `i` (203.0.113.(10+i)). */
  publicAddr(i: number): string {
    return `203.0.113.${10 + i}`;
  }

  /** Namespace of a site's private host. */
  host(site: string): string {
    return this.#site(site).host;
  }

  /** A site's private host address (10.n.0.10, or 10.n.1.10 behind a double NAT). */
  privateAddr(site: string): string {
    return this.#site(site).privateAddr;
  }

  /** Namespace of a site's (outer) NAT router. */
  router(site: string): string {
    return this.#site(site).router;
  }

  /** Namespace of the inner router of a `double-nat` site. */
  innerRouter(site: string): string {
    const inner = this.#site(site).inner;
    if (!inner) throw new RangeError(`site ${site} is not double-nat`);
    return inner;
  }

  /** The public (wan) address of a site's router: what peers observe. */
  routerWan(site: string): string {
    return this.#site(site).wan;
  }

  /** The profile of a site. */
  profile(site: string): NatProfile {
    return this.#site(site).profile;
  }

  /** Every router namespace of a site (outer first). */
  routers(site: string): string[] {
    const s = this.#site(site);
    return s.inner ? [s.router, s.inner] : [s.router];
  }

  /** Run a command to completion inside a namespace; resolves with stdout. */
  exec(ns: string, cmd: string[], stdin?: string): Promise<string> {
    return sh("ip", ["netns", "exec", ns, ...cmd], stdin);
  }

  /** Add an iptables rule in a namespace, e.g. `["-A", "FORWARD", "-p", "udp", "-j", "DROP"]`. */
  iptables(ns: string, rule: string[]): Promise<string> {
    return this.exec(ns, ["iptables", "-w", ...rule]);
  }

  /**
   * Start a process in a namespace, in its own process group (killed on
   * `destroy()`). stdout is piped (read `child.stdout`) unless `stdout: "null"`.
   */
  spawn(
    ns: string,
    cmd: string,
    args: string[],
    options: {
      cwd?: string;
      env?: Record<string, string>;
      stdout?: "piped" | "null";
      stderr?: "piped" | "inherit" | "null";
    } = {},
  ): LabProcess {
    if (this.#destroyed) throw new Error("lab destroyed");
    // `ip netns exec` and `setsid` both exec: the child's pid is the program's, and it leads its own group.
    const child = new Deno.Command("ip", {
      args: ["netns", "exec", ns, "setsid", cmd, ...args],
      cwd: options.cwd,
      env: options.env,
      stdin: "null",
      stdout: options.stdout ?? "piped",
      stderr: options.stderr ?? "inherit",
    }).spawn();
    const proc: LabProcess = {
      ns,
      child,
      pid: child.pid,
      exited: child.status,
      kill(signal: Deno.Signal = "SIGKILL") {
        try {
          Deno.kill(-child.pid, signal);
        } catch {
          // already gone
        }
      },
    };
    this.#processes.push(proc);
    return proc;
  }

  /** Start `nat_probe.ts <args>` in a namespace (see that file for the commands). */
  spawnProbe(ns: string, args: string[]): ProbeProcess {
    return jsonLines(this.spawn(ns, Deno.execPath(), ["run", "--allow-net", PROBE, ...args]), `probe in ${ns}`, 10_000);
  }

  /** Run `nat_probe.ts <args>` to completion in a namespace; resolves with its (last) JSON line. */
  async probe(ns: string, args: string[]): Promise<Record<string, unknown>> {
    const out = await this.exec(ns, [Deno.execPath(), "run", "--allow-net", PROBE, ...args]);
    const lines = out.trim().split("\n");
    return JSON.parse(lines[lines.length - 1]);
  }

  /**
   * Start `macula start` in a namespace: QUIC and TCP on 0.0.0.0:9443, the
   * status endpoint on 127.0.0.1:8080 in its namespace (read it with `get`; loopback: no console token), JSON logs,
   * clustering off (`CLUSTER_STRATEGY=off`), its own data directory; `args`
   * are added (e.g. `--seed …`). Resolves once its status endpoint listens.
   */
  async startNode(ns: string, args: string[] = [], options: { env?: Record<string, string> } = {}): Promise<LabNode> {
    const dataDir = `.macula/${this.run}/${ns.slice(this.run.length + 1)}`;
    const proc = this.spawn(ns, Deno.execPath(), [
      "run",
      ...startPermissions(),
      "main.ts",
      "start",
      "--data-dir",
      dataDir,
      "--host",
      "0.0.0.0",
      "--port",
      "9443",
      "--health-host",
      "127.0.0.1",
      "--health-port",
      "8080",
      "--log-format",
      "json",
      ...args,
    ], { cwd: ROOT, env: { NO_COLOR: "1", CLUSTER_STRATEGY: "off", ...options.env }, stdout: "null", stderr: "piped" });
    const node: LabNode = { ns, proc, did: "", logs: [], dataDir };
    await followStartLog(proc.child.stderr!, node, `in ${ns}`);
    return node;
  }

  /** `quic://<addr>:9443/<did>` of a node started with `startNode` at a host reachable at `addr`. */
  static quicAddress(addr: string, node: LabNode): string {
    return `quic://${addr}:9443/${node.did}`;
  }

  /** GET `path` of a node's status endpoint (from inside its namespace), parsed as JSON unless it is `/metrics`. */
  async get(node: LabNode, path: string): Promise<unknown> {
    const url = `http://127.0.0.1:8080${path}`;
    const body = await this.exec(node.ns, ["curl", "-sf", "--max-time", "5", url]).catch(() =>
      this.exec(node.ns, [Deno.execPath(), "run", "--allow-net", PROBE, "get", url])
    );
    return path === "/metrics" ? body : JSON.parse(body);
  }

  /** Number of conntrack entries in a namespace (needs `conntrack`). */
  async conntrackCount(ns: string): Promise<number> {
    const out = await this.exec(ns, ["conntrack", "-L"]).catch((e: Error) => {
      throw new Error(`conntrack -L in ${ns}: ${e.message} (${"apt-get install conntrack"})`);
    });
    return out.split("\n").filter((l) => l.trim()).length;
  }

  /**
   * Forget every NAT mapping and connection-tracking entry: `conntrack -F` in
   * the core and every router (all sites, or the ones named). Needs the
   * `conntrack` tool (`conntrackUnavailable()`); without it, use fresh ports
   * for each case instead (entries of unused ports do not interfere).
   */
  async flushConntrack(sites?: string[]): Promise<void> {
    const why = await conntrackUnavailable();
    if (why) throw new Error(`flushConntrack: ${why}`);
    const namespaces = [this.core, ...(sites ?? this.sites).flatMap((s) => this.routers(s))];
    await Promise.all(namespaces.map((ns) => this.exec(ns, ["conntrack", "-F"]).catch(() => {})));
  }

  /** Kill every spawned process group, delete the namespaces. Idempotent. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    for (const p of this.#processes) {
      p.kill("SIGCONT");
      p.kill("SIGKILL");
    }
    await Promise.all(this.#processes.map((p) => p.exited.catch(() => {})));
    const names = (await sh("ip", ["netns", "list"]).catch(() => "")).split("\n").map((l) => l.split(" ")[0]);
    await Promise.all(
      names.filter((n) => n.startsWith(`${this.run}-`)).map((n) => sh("ip", ["netns", "del", n]).catch(() => {})),
    );
    await Deno.remove(`${ROOT}/.macula/${this.run}`, { recursive: true }).catch(() => {});
  }
}

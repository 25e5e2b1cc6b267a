/**
 * Test harness: LANs of network namespaces. Builds a "switch" namespace with
 * one bridge per LAN (IGMP snooping off) and N host namespaces, each with a
 * veth interface `eth<p>` per LAN it is on (10.77.<lan>.0/24, by default one
 * LAN) and `lo` up, plus an observer namespace (10.77.<lan>.254 on every LAN)
 * running `netns_observer.ts`, through which the test reaches the hosts' HTTP
 * status endpoints and injects or captures datagrams. Hosts have no default
 * or multicast route. Everything lives in namespaces named after the run
 * (`mcl<pid>x<rand>-…`), so concurrent runs never collide; `destroy()`
 * removes it all (kill nodes, delete namespaces and data dirs), and
 * `create()` first removes leftovers of runs whose process is gone.
 *
 * Needs root, `ip` (iproute2) and, for packet rules, `iptables`; call
 * `netnsUnavailable()` first and skip with the reason it gives. */
import { followStartLog, startPermissions } from "./cli.ts";
import { forEachLine, sh } from "../../scripts/process.ts";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** Why namespace tests cannot run here, or null if they can. */
export async function netnsUnavailable(options: { iptables?: boolean } = {}): Promise<string | null> {
  if (Deno.build.os !== "linux") return "network namespaces need Linux";
  if (typeof Deno.uid === "function" && Deno.uid() !== 0) return "network namespace tests need root";
  for (const tool of ["ip", ...(options.iptables === false ? [] : ["iptables"])]) {
    try {
      const out = await new Deno.Command(tool, { args: ["-V"], stdout: "null", stderr: "null" }).output();
      if (!out.success && tool !== "ip") return `${tool} -V failed`;
    } catch {
      return `${tool} is not installed (apt-get install ${tool === "ip" ? "iproute2" : "iptables"})`;
    }
  }
  try {
    const probe = `mclprobe${Deno.pid.toString(36)}`;
    await sh("ip", ["netns", "add", probe]);
    await sh("ip", ["netns", "del", probe]);
  } catch (error) {
    return `cannot create network namespaces: ${(error as Error).message}`;
  }
  return null;
}

function alive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** Remove namespaces of earlier runs whose process no longer exists. */
export async function cleanStaleLabs(): Promise<number> {
  const names = (await sh("ip", ["netns", "list"])).split("\n").map((l) => l.split(" ")[0]).filter(Boolean);
  let removed = 0;
  for (const name of names) {
    const m = /^(?:mcl|[a-z]{4}-)([0-9a-z]+)x[0-9a-z]+-/.exec(name);
    if (!m || alive(parseInt(m[1], 36))) continue;
    await sh("ip", ["netns", "del", name]).catch(() => {});
    removed++;
  }
  return removed;
}

/** One host of the lab. */
export interface Host {
  index: number;
  ns: string;
  /** Its address on its first LAN (health endpoint, SWIM). */
  addr: string;
  /** LANs it is on, and its address on each. */
  lans: number[];
  addrs: string[];
}

/** A running `macula start` in a host namespace. */
export interface LabNode {
  host: Host;
  child: Deno.ChildProcess;
  /** Parsed JSON log lines so far, each with `at` = when the test read it. */
  logs: Array<Record<string, unknown> & { at: number }>;
  /** The node's did:key (from its "node started" line). */
  did: string;
  /** Resolves when the process exits. */
  exited: Promise<Deno.CommandStatus>;
  /** Its data directory, relative to the repository root. */
  dataDir?: string;
}

interface Pending {
  resolve: (value: Record<string, unknown>) => void;
  reject: (error: Error) => void;
}

/**
 * A bridge with N hosts.
 *
 * @example
 * ```ts
 * import { NetnsLab } from "./netns.ts";
 * const lab = await NetnsLab.create(3);
 * try {
 *   const node = await lab.startNode(lab.hosts[0], ["--cluster-secret", "s3cret-s3cret"]);
 *   console.log(await lab.get(node, "/status"));
 * } finally {
 *   await lab.destroy();
 * }
 * ```
 */
export class NetnsLab {
  readonly run: string;
  readonly hosts: Host[];
  readonly nodes: LabNode[] = [];
  #observer?: Deno.ChildProcess;
  #observerIn?: WritableStreamDefaultWriter<Uint8Array>;
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #destroyed = false;

  private constructor(run: string, hosts: Host[]) {
    this.run = run;
    this.hosts = hosts;
  }

  /**
   * Build the lab (cleaning leftovers of crashed runs first). `lans(i)` lists
   * the LANs host `i` is on (default `[0]`); LAN `k` is bridge `br<k>` with
   * 10.77.k.0/24, and a host's interface on its p-th LAN is `eth<p>`. The
   * observer is on every LAN (10.77.k.254). `prefix` (4 letters) starts every namespace name instead of `mcl`.
   */
  static async create(
    count: number,
    options: { lans?: (index: number) => number[]; prefix?: string } = {},
  ): Promise<NetnsLab> {
    if (count < 1 || count > 200) throw new RangeError("1-200 hosts");
    if (options.prefix !== undefined && !/^[a-z]{4}$/.test(options.prefix)) throw new RangeError("prefix: 4 letters");
    await cleanStaleLabs();
    const head = options.prefix ? `${options.prefix}-` : "mcl";
    // No "x" in the random part: `cleanStaleLabs` reads the pid up to the last "x" (else it may remove a live lab).
    const run = `${head}${Deno.pid.toString(36)}x${Math.random().toString(36).slice(2, 5).replaceAll("x", "y")}`;
    const lansOf = options.lans ?? (() => [0]);
    const hosts: Host[] = Array.from({ length: count }, (_, i) => {
      const lans = lansOf(i);
      return {
        index: i,
        ns: `${run}-h${i}`,
        addr: `10.77.${lans[0]}.${i + 10}`,
        lans,
        addrs: lans.map((k) => `10.77.${k}.${i + 10}`),
      };
    });
    const lanIds = [...new Set(hosts.flatMap((h) => h.lans))].sort((a, b) => a - b);
    const lab = new NetnsLab(run, hosts);
    try {
      const sw = `${run}-sw`;
      const observer: Host = {
        index: count,
        ns: `${run}-ob`,
        addr: `10.77.${lanIds[0]}.254`,
        lans: lanIds,
        addrs: lanIds.map((k) => `10.77.${k}.254`),
      };
      const all = [...hosts, observer];
      // Veth ends are created right inside their namespaces, so names only need to be unique there.
      // `ip -batch` takes no per-line -n: one batch in the root namespace, then one per namespace.
      const root = [`netns add ${sw}`];
      const swLines = lanIds.flatMap((k) => [`link add br${k} type bridge mcast_snooping 0`, `link set br${k} up`]);
      for (const h of all) {
        root.push(`netns add ${h.ns}`);
        h.lans.forEach((k, p) => {
          root.push(`link add eth${p} netns ${h.ns} type veth peer name h${h.index}l${k} netns ${sw}`);
          swLines.push(`link set h${h.index}l${k} master br${k}`, `link set h${h.index}l${k} up`);
        });
      }
      await sh("ip", ["-batch", "-"], root.join("\n") + "\n");
      await sh("ip", ["-n", sw, "-batch", "-"], swLines.join("\n") + "\n");
      await Promise.all(all.map((h) =>
        sh(
          "ip",
          ["-n", h.ns, "-batch", "-"],
          [
            ...h.lans.flatMap((_, p) => [`addr add ${h.addrs[p]}/24 dev eth${p}`, `link set eth${p} up`]),
            "link set lo up",
          ].join("\n") + "\n",
        )
      ));
      await lab.#startObserver(observer);
      return lab;
    } catch (error) {
      await lab.destroy();
      throw error;
    }
  }

  /** Run a command inside a host's namespace. */
  exec(host: Host, cmd: string[]): Promise<string> {
    return sh("ip", ["netns", "exec", host.ns, ...cmd]);
  }

  /** Apply an iptables rule on a host, e.g. `["-A", "INPUT", "-s", addr, "-j", "DROP"]`. */
  iptables(host: Host, rule: string[]): Promise<string> {
    return this.exec(host, ["iptables", "-w", ...rule]);
  }

  /** Remove every iptables rule of a host. */
  async flushIptables(host: Host): Promise<void> {
    await this.exec(host, ["iptables", "-w", "-F"]);
  }

  /** Start `macula start` in a host namespace (JSON logs, health on the host address); resolves once ready. */
  async startNode(host: Host, args: string[] = [], options: { env?: Record<string, string> } = {}): Promise<LabNode> {
    const dataDir = `.macula/${this.run}/h${host.index}`;
    const child = new Deno.Command("ip", {
      args: [
        "netns",
        "exec",
        host.ns,
        Deno.execPath(),
        "run",
        ...startPermissions(),
        "main.ts",
        "start",
        "--data-dir",
        dataDir,
        "--host",
        "0.0.0.0",
        "--health-host",
        host.addr,
        "--health-port",
        "8080",
        "--log-format",
        "json",
        ...args,
      ],
      cwd: ROOT,
      env: { NO_COLOR: "1", ...options.env },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const node: LabNode = { host, child, logs: [], did: "", exited: child.status, dataDir };
    this.nodes.push(node);
    await followStartLog(child.stderr, node, `on ${host.addr}`, { stamp: true });
    return node;
  }

  /** Send a signal to a node (SIGKILL, SIGSTOP, SIGCONT, SIGTERM). */
  signal(node: LabNode, signal: Deno.Signal): void {
    // `ip netns exec` execs the program, so the child's pid is the node's.
    try {
      Deno.kill(node.child.pid, signal);
    } catch {
      // already gone
    }
  }

  /** GET a node's status path as JSON, through the observer (with the node's console token). */
  async get(node: LabNode, path: string): Promise<unknown> {
    // The status port is on a non-loopback address: it needs the console token from the data dir.
    const token = node.dataDir
      ? await Deno.readTextFile(`${ROOT}/${node.dataDir}/console-token`).then((t) => t.trim(), () => undefined)
      : undefined;
    const r = await this.http(node, path, token);
    return path === "/metrics" ? r.body : JSON.parse(r.body);
  }

  /** GET a node's status path through the observer: the status and body; `token` is sent as a bearer. */
  async http(node: LabNode, path: string, token?: string): Promise<{ status: number; body: string }> {
    const r = await this.#ask({ op: "get", url: `http://${node.host.addr}:8080${path}`, token });
    if (r.error) throw new Error(`GET ${path} on ${node.host.addr}: ${r.error}`);
    return { status: Number(r.status), body: String(r.body) };
  }

  /** The node's `/status` cluster section. */
  async cluster(node: LabNode): Promise<{ members: Array<{ id: string; state: string }>; [k: string]: unknown }> {
    return ((await this.get(node, "/status")) as { cluster: never }).cluster;
  }

  /** A counter/gauge from a node's `/metrics`, e.g. `macula_cluster_dropped_datagrams_total{reason="bad_mac"}`. */
  async metric(node: LabNode, series: string): Promise<number> {
    const text = String(await this.get(node, "/metrics"));
    const line = text.split("\n").find((l) => l.startsWith(series + " "));
    return line ? Number(line.slice(series.length + 1)) : 0;
  }

  /** Send a UDP datagram from the observer (10.77.0.254). */
  async inject(to: { hostname: string; port: number }, data: Uint8Array): Promise<void> {
    const r = await this.#ask({
      op: "send",
      hostname: to.hostname,
      port: to.port,
      data: btoa(String.fromCharCode(...data)),
    });
    if (r.error) throw new Error(`inject to ${to.hostname}:${to.port}: ${r.error}`);
  }

  /** Capture `count` datagrams sent to a multicast group (from the observer), waiting at most `ms`. */
  async capture(group: string, port: number, count: number, ms = 5000): Promise<Uint8Array[]> {
    const r = await this.#ask({ op: "capture", group, port, count, ms });
    return (r.data as string[]).map((b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
  }

  async #startObserver(observer: Host): Promise<void> {
    const script = new URL("./netns_observer.ts", import.meta.url).pathname;
    const child = new Deno.Command("ip", {
      args: [
        "netns",
        "exec",
        observer.ns,
        Deno.execPath(),
        "run",
        "--allow-net",
        "--unstable-net",
        script,
        observer.addr,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#observer = child;
    this.#observerIn = child.stdin.getWriter();
    (async () => {
      await forEachLine(child.stdout, (line) => {
        const reply = JSON.parse(line);
        this.#pending.get(reply.id)?.resolve(reply);
        this.#pending.delete(reply.id);
      });
      for (const p of this.#pending.values()) p.reject(new Error("observer exited"));
    })();
    await this.#ask({ op: "ping" });
  }

  async #ask(request: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = this.#nextId++;
    const reply = new Promise<Record<string, unknown>>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    await this.#observerIn!.write(new TextEncoder().encode(JSON.stringify({ ...request, id }) + "\n"));
    return reply;
  }

  /** Stop every node and the observer, delete the namespaces and data dirs. Idempotent. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    for (const node of this.nodes) {
      this.signal(node, "SIGCONT");
      this.signal(node, "SIGKILL");
    }
    await Promise.all(this.nodes.map((n) => n.exited.catch(() => {})));
    try {
      await this.#observerIn?.close();
    } catch {
      // observer already gone
    }
    if (this.#observer) {
      try {
        this.#observer.kill("SIGKILL");
      } catch {
        // already exited
      }
      await this.#observer.status.catch(() => {});
    }
    const names = (await sh("ip", ["netns", "list"]).catch(() => "")).split("\n").map((l) => l.split(" ")[0]);
    for (const name of names) {
      if (name.startsWith(`${this.run}-`)) await sh("ip", ["netns", "del", name]).catch(() => {});
    }
    await Deno.remove(`${ROOT}/.macula/${this.run}`, { recursive: true }).catch(() => {});
  }
}

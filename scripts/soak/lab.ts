/**
 * The soak test's network: one "switch" namespace with a bridge and N host
 * namespaces (`soak<pid>-h<i>`, 10.78.0.<i+10>/24 on `eth0`), plus the
 * faults: partitions (iptables DROP in a `SOAKPART` chain of every host) and
 * loss on one host's link (`tc netem` where the kernel has it, otherwise an
 * iptables `statistic` DROP in a `SOAKLOSS` chain). `destroy()` kills every
 * process started in the lab and deletes the namespaces (which takes their
 * veths and iptables rules with them); `create()` first removes leftovers of
 * runs whose process is gone (and their processes). Same idea as `tests/helpers/netns.ts`, with
 * the `soak` prefix and without the CLI and observer.
 *
 * @module
 */

import { sh } from "../process.ts";

const PREFIX = "soak";

/** Why the soak cannot run here (no root, no `ip`, `tc` or `iptables`), or null. */
export async function labUnavailable(): Promise<string | null> {
  if (Deno.build.os !== "linux") return "network namespaces need Linux";
  if (typeof Deno.uid === "function" && Deno.uid() !== 0) return "the soak needs root (network namespaces)";
  for (const [tool, pkg] of [["ip", "iproute2"], ["tc", "iproute2"], ["iptables", "iptables"]]) {
    try {
      await new Deno.Command(tool, { args: ["-V"], stdout: "null", stderr: "null" }).output();
    } catch {
      return `${tool} is not installed (apt-get install ${pkg})`;
    }
  }
  const probe = `${PREFIX}probe${Deno.pid.toString(36)}`;
  try {
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

/** A host namespace. */
export interface LabHost {
  index: number;
  ns: string;
  addr: string;
}

/** The network of one soak run. */
export class SoakLab {
  readonly run: string;
  readonly hosts: LabHost[];
  /** Processes started in the lab (killed by `destroy`). */
  readonly processes = new Set<Deno.ChildProcess>();
  /** How loss was applied (`netem` or `iptables`), once `addLoss` ran. */
  lossMethod = "";
  #destroyed = false;

  private constructor(run: string, hosts: LabHost[]) {
    this.run = run;
    this.hosts = hosts;
  }

  /** Build a bridge with `count` hosts (removing leftovers of dead runs first). */
  static async create(count: number): Promise<SoakLab> {
    const names = (await sh("ip", ["netns", "list"])).split("\n").map((l) => l.split(" ")[0]).filter(Boolean);
    for (const name of names) {
      const m = new RegExp(`^${PREFIX}([0-9a-z]+)x[0-9a-z]+-`).exec(name);
      if (!m || alive(parseInt(m[1], 36))) continue;
      // A run that was SIGKILLed left its nodes running in there: end them first.
      for (const pid of (await sh("ip", ["netns", "pids", name]).catch(() => "")).split("\n").filter(Boolean)) {
        try {
          Deno.kill(Number(pid), "SIGKILL");
        } catch {
          // already gone
        }
      }
      await sh("ip", ["netns", "del", name]).catch(() => {});
    }
    const run = `${PREFIX}${Deno.pid.toString(36)}x${Math.random().toString(36).slice(2, 5)}`;
    const hosts = Array.from(
      { length: count },
      (_, i) => ({ index: i, ns: `${run}-h${i}`, addr: `10.78.0.${i + 10}` }),
    );
    const lab = new SoakLab(run, hosts);
    try {
      const sw = `${run}-sw`;
      const root = [`netns add ${sw}`];
      const swLines = ["link add br0 type bridge mcast_snooping 0", "link set br0 up"];
      for (const h of hosts) {
        root.push(`netns add ${h.ns}`, `link add eth0 netns ${h.ns} type veth peer name h${h.index} netns ${sw}`);
        swLines.push(`link set h${h.index} master br0`, `link set h${h.index} up`);
      }
      await sh("ip", ["-batch", "-"], root.join("\n") + "\n");
      await sh("ip", ["-n", sw, "-batch", "-"], swLines.join("\n") + "\n");
      for (const h of hosts) {
        await sh(
          "ip",
          ["-n", h.ns, "-batch", "-"],
          `addr add ${h.addr}/24 dev eth0\nlink set eth0 up\nlink set lo up\n`,
        );
        // Partition rules live in their own chain so that healing never touches the loss rules.
        await lab.iptables(h, ["-N", "SOAKPART"]);
        await lab.iptables(h, ["-A", "INPUT", "-j", "SOAKPART"]);
        await lab.iptables(h, ["-A", "OUTPUT", "-j", "SOAKPART"]);
      }
      return lab;
    } catch (error) {
      await lab.destroy();
      throw error;
    }
  }

  /** Run iptables in a host's namespace. */
  iptables(host: LabHost, rule: string[]): Promise<string> {
    return sh("ip", ["netns", "exec", host.ns, "iptables", "-w", ...rule]);
  }

  /** Cut every packet between group `a` and group `b` (both directions, on every host of both). */
  async partition(a: readonly LabHost[], b: readonly LabHost[]): Promise<void> {
    const cut = async (host: LabHost, others: readonly LabHost[]) => {
      for (const o of others) {
        await this.iptables(host, ["-A", "SOAKPART", "-s", o.addr, "-j", "DROP"]);
        await this.iptables(host, ["-A", "SOAKPART", "-d", o.addr, "-j", "DROP"]);
      }
    };
    await Promise.all([...a.map((h) => cut(h, b)), ...b.map((h) => cut(h, a))]);
  }

  /** Remove every partition rule. */
  async heal(): Promise<void> {
    await Promise.all(this.hosts.map((h) => this.iptables(h, ["-F", "SOAKPART"])));
  }

  /** Lose `percent` % of the packets in each direction on `host`'s link (netem if available, else iptables). */
  async addLoss(host: LabHost, percent: number): Promise<void> {
    try {
      await sh("ip", [
        "netns",
        "exec",
        host.ns,
        "tc",
        "qdisc",
        "add",
        "dev",
        "eth0",
        "root",
        "netem",
        "loss",
        `${percent}%`,
      ]);
      // netem shapes egress only: the switch side of the veth takes the other direction.
      await sh("ip", [
        "netns",
        "exec",
        `${this.run}-sw`,
        "tc",
        "qdisc",
        "add",
        "dev",
        `h${host.index}`,
        "root",
        "netem",
        "loss",
        `${percent}%`,
      ]);
      this.lossMethod = "tc netem (both ends of the veth)";
      return;
    } catch {
      // no sch_netem in this kernel: fall back to iptables
    }
    const p = String(percent / 100);
    const drop = ["-m", "statistic", "--mode", "random", "--probability", p, "-j", "DROP"];
    await this.iptables(host, ["-N", "SOAKLOSS"]);
    await this.iptables(host, ["-A", "SOAKLOSS", "-i", "eth0", ...drop]);
    await this.iptables(host, ["-A", "SOAKLOSS", "-o", "eth0", ...drop]);
    await this.iptables(host, ["-I", "INPUT", "1", "-j", "SOAKLOSS"]);
    await this.iptables(host, ["-I", "OUTPUT", "1", "-j", "SOAKLOSS"]);
    this.lossMethod = "iptables statistic DROP on eth0, in and out (tc netem is not in this kernel)";
  }

  /** Spawn `cmd` inside a host namespace (`ip netns exec` execs it, so the child's pid is the program's). */
  spawn(host: LabHost, cmd: string[], cwd: string): Deno.ChildProcess {
    const child = new Deno.Command("ip", {
      args: ["netns", "exec", host.ns, ...cmd],
      cwd,
      env: { NO_COLOR: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.processes.add(child);
    child.status.finally(() => this.processes.delete(child));
    return child;
  }

  /** Kill every process, delete the namespaces (veths and iptables rules go with them). Idempotent. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    const children = [...this.processes];
    for (const child of children) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
    await Promise.all(children.map((c) => c.status.catch(() => {})));
    const names = (await sh("ip", ["netns", "list"]).catch(() => "")).split("\n").map((l) => l.split(" ")[0]);
    for (const name of names) {
      if (name.startsWith(`${this.run}-`)) await sh("ip", ["netns", "del", name]).catch(() => {});
    }
  }
}

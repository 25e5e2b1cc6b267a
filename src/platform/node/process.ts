/**
 * Process-level facilities for the Node platform: environment, interfaces,
 * signals, output, exit and arguments.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { networkInterfaces } from "node:os";
import process from "node:process";
import { Readable } from "node:stream";
import type { InterfaceAddress, ProcessApi, RunResult } from "../types.ts";

/**
 * The command-line arguments after the program name. In a single executable
 * application Node puts the executable's path in both `argv[0]` and
 * `argv[1]`, as it does for `node script.js`, so both drop two.
 */
function args(): string[] {
  return process.argv.slice(2);
}

/**
 * `ProcessApi` on `node:process` and `node:os`.
 *
 * @example
 * ```ts
 * import { nodeProcess } from "./process.ts";
 * nodeProcess.stdout(`args: ${nodeProcess.args.join(" ")}\n`);
 * ```
 */
export const nodeProcess: ProcessApi = {
  env: (name) => process.env[name],
  interfaces(): InterfaceAddress[] {
    const out: InterfaceAddress[] = [];
    for (const [name, addrs] of Object.entries(networkInterfaces())) {
      for (const a of addrs ?? []) {
        const family = (a.family as unknown) === 6 || a.family === "IPv6" ? "IPv6" : "IPv4";
        out.push({ name, address: a.address, family, internal: a.internal, netmask: a.netmask });
      }
    }
    return out;
  },
  onShutdownSignal(handler) {
    const signals = ["SIGINT", "SIGTERM"] as const;
    const listeners = signals.map((s) => {
      const fn = () => handler(s);
      process.on(s, fn);
      return [s, fn] as const;
    });
    return () => {
      for (const [s, fn] of listeners) process.off(s, fn);
    };
  },
  stdout(text) {
    process.stdout.write(text);
  },
  stderr(text) {
    process.stderr.write(text);
  },
  stdin: () => Readable.toWeb(process.stdin) as unknown as ReadableStream<Uint8Array>,
  writeStdout(data) {
    return new Promise<void>((resolve, reject) => process.stdout.write(data, (e) => e ? reject(e) : resolve()));
  },
  isTerminal: (stream) => Boolean((stream === "stdout" ? process.stdout : process.stderr).isTTY),
  exit(code) {
    process.exit(code);
  },
  get args() {
    return args();
  },
  memory() {
    try {
      return { rss: process.memoryUsage.rss() };
    } catch {
      return { rss: 0 };
    }
  },
  execPath: () => process.execPath,
  run(command, args, options): Promise<RunResult> {
    return new Promise((resolve) => {
      const child = spawn(command, [...args], { stdio: ["ignore", "pipe", "ignore"] });
      let stdout = "";
      child.stdout?.on("data", (d: Uint8Array) => {
        if (stdout.length < 65536) stdout += new TextDecoder().decode(d);
      });
      const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
      child.on("error", () => {
        clearTimeout(timer);
        resolve({ code: null, stdout });
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        resolve({ code: signal ? null : code, stdout: stdout.slice(0, 65536) });
      });
    });
  },
  spawn(command, args, options) {
    const child = spawn(command, [...args], {
      stdio: "ignore",
      detached: true,
      env: { ...process.env, ...options?.env },
    });
    const exited = new Promise<number | null>((resolve) => {
      child.on("error", () => resolve(null));
      child.on("exit", (code, signal) => resolve(signal ? null : code));
    });
    return {
      exited,
      kill() {
        try {
          if (child.pid) process.kill(-child.pid, "SIGKILL");
        } catch { /* gone */ }
      },
    };
  },
};

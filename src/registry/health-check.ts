/**
 * The self-update health check that really starts the candidate: it runs
 * `candidate start` as a throw-away node (a fresh data directory, loopback
 * only, ephemeral ports, no seeds, clustering off) and requires its
 * `/health` and `/ready` to answer 200 within the bound; the candidate's
 * whole process group is then killed and its data directory removed.
 *
 * @module
 */
import type { FsApi, ProcessApi, SocketAddress, SpawnedProcess } from "../platform/types.ts";
import { MaculaError } from "../util/errors.ts";

/** Default bound for the candidate to answer `/health` and `/ready`, ms. */
export const NODE_HEALTH_TIMEOUT = 20_000;

/** A candidate that did not pass (`code` `E_SELF_UPDATE_HEALTH`); the message names what failed. */
export class HealthCheckError extends MaculaError {}

/** What the check needs. */
export interface NodeHealthCheckOptions {
  /** Files (the candidate's temporary data directory). */
  fs: FsApi;
  /** Starts the candidate (`ProcessApi.spawn`). */
  spawn: NonNullable<ProcessApi["spawn"]>;
  /** Finds a free loopback port for its HTTP interface (`TcpApi.listen` on port 0). */
  tcp: PortListener;
  /** Directory for the temporary data directory (next to the binary). */
  dir: string;
  /** Bound, ms (default `NODE_HEALTH_TIMEOUT`). */
  timeoutMs?: number;
}

/** The part of `TcpApi` the check uses. */
export interface PortListener {
  /** Bind and listen (`TcpApi.listen`). */
  listen(addr: SocketAddress): Promise<{ readonly addr: SocketAddress; close(): void }>;
}

async function freePort(tcp: PortListener): Promise<number> {
  const listener = await tcp.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

async function answers(url: string, deadline: number): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(Math.max(1, Math.min(2_000, deadline - Date.now()))) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** The arguments that start a candidate as an isolated node. */
export function candidateArgs(dataDir: string, healthPort: number): string[] {
  return [
    "start",
    "--data-dir",
    dataDir,
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--health-host",
    "127.0.0.1",
    "--health-port",
    String(healthPort),
    "--cluster-strategy",
    "off",
    "--log-level",
    "error",
  ];
}

/** Environment that would join the candidate to the mesh, cleared (empty = unset for `start`). */
const CLEARED_ENV = {
  MACULA_SEEDS: "",
  MACULA_REALM: "",
  MACULA_DATA_DIR: "",
  MACULA_HOST: "",
  MACULA_QUIC_PORT: "",
  MACULA_HEALTH_HOST: "",
  HEALTH_PORT: "",
  MACULA_RELAY: "",
  MACULA_RELAYS: "",
  MACULA_RELAY_PEERS: "",
  CLUSTER_STRATEGY: "off",
};

/**
 * Start `candidate` as a node and wait until `/health` and `/ready` answer
 * 200; always kills it (its process group) and removes its data directory.
 * Throws `HealthCheckError` (`E_SELF_UPDATE_HEALTH`) naming what failed:
 * it could not start, exited (with its code), or did not answer in time.
 *
 * @example
 * ```ts
 * import { checkCandidateNode } from "./health-check.ts";
 * import { currentPlatform } from "../platform/current.ts";
 * const p = currentPlatform();
 * await checkCandidateNode("/var/lib/macula/bin/.macula.candidate", {
 *   fs: p.fs, spawn: p.process.spawn!.bind(p.process), tcp: p.tcp, dir: "/var/lib/macula/bin",
 * });
 * ```
 */
export async function checkCandidateNode(candidate: string, options: NodeHealthCheckOptions): Promise<void> {
  const { fs } = options;
  const timeoutMs = options.timeoutMs ?? NODE_HEALTH_TIMEOUT;
  const dataDir = fs.join(options.dir, `.health-${crypto.randomUUID().slice(0, 8)}`);
  await fs.mkdir(dataDir, 0o700);
  let child: SpawnedProcess | undefined;
  try {
    const port = await freePort(options.tcp);
    child = options.spawn(candidate, candidateArgs(dataDir, port), { env: CLEARED_ENV });
    let exited: number | null | undefined;
    let gone = false;
    child.exited.then((code) => {
      exited = code;
      gone = true;
    });
    const deadline = Date.now() + timeoutMs;
    const base = `http://127.0.0.1:${port}`;
    let health = false;
    while (Date.now() < deadline && !gone) {
      health ||= await answers(`${base}/health`, deadline);
      if (health && await answers(`${base}/ready`, deadline)) return;
      if (!gone) await new Promise((r) => setTimeout(r, 200));
    }
    const what = gone
      ? `exited (${exited === null ? "killed or not started" : `code ${exited}`}) before answering`
      : `did not answer ${health ? "/ready" : "/health"} within ${timeoutMs} ms`;
    throw new HealthCheckError(
      "E_SELF_UPDATE_HEALTH",
      `the candidate ${candidate}, started as a node on 127.0.0.1:${port}, ${what}`,
    );
  } finally {
    child?.kill();
    await child?.exited;
    await fs.remove(dataDir, { recursive: true }).catch(() => false);
  }
}

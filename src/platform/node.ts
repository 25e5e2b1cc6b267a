/**
 * The Node implementation of `Platform`, used by the single executables
 * built with Node (all of armv7, and x86_64/aarch64 with `--runtime node`).
 * TCP on `node:net`, UDP and multicast on `node:dgram`, HTTP on `node:http`,
 * files on `node:fs/promises`.
 * Node has no QUIC, so `quic` is absent, and no permission system, so
 * `permissionDenied` always answers `null`.
 *
 * @module
 */
import process from "node:process";
import { nodeFs } from "./node/fs.ts";
import { nodeHttp } from "./node/http.ts";
import { nodeProcess } from "./node/process.ts";
import { nodeTcp } from "./node/tcp.ts";
import { nodeUdp } from "./node/udp.ts";
import type { Platform } from "./types.ts";

/** Node's `process.arch` → the architecture names Deno uses (`Deno.build.arch`). */
const ARCH: Record<string, string> = { x64: "x86_64", arm64: "aarch64", arm: "armv7" };

/**
 * Build the Node platform (call only under Node).
 *
 * @example
 * ```ts
 * import { createNodePlatform } from "./node.ts";
 * const platform = createNodePlatform();
 * console.log(platform.runtimeVersion, platform.target); // "node 20.20.2" "linux-x86_64"
 * ```
 */
export function createNodePlatform(): Platform {
  return {
    runtime: "node",
    runtimeVersion: `node ${process.versions.node}`,
    target: `${process.platform}-${ARCH[process.arch] ?? process.arch}`,
    tcp: nodeTcp,
    quic: undefined,
    udp: nodeUdp,
    http: nodeHttp,
    fs: nodeFs,
    process: nodeProcess,
    permissionDenied: () => null,
  };
}

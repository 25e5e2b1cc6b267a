/**
 * The UCAN commands and arguments of mesh operations. Every operation a
 * node authorizes maps to one command under `/macula`, and its arguments are
 * always `{ realm, name }` (the topic, pattern, procedure, MCID, handler or
 * protocol), so one namespace policy (`.name` under `io.acme`) confines
 * every kind of operation. A delegation of `/macula` covers them all;
 * `/macula/pubsub` covers publish and subscribe.
 *
 * @module
 */
import type { Operation, OperationKind } from "../node/authorize.ts";

/** The root command of every Macula operation. */
export const MACULA_COMMAND = "/macula";

/** The command of each operation kind. */
export const OPERATION_COMMANDS: Readonly<Record<OperationKind, string>> = {
  publish: "/macula/pubsub/publish",
  subscribe: "/macula/pubsub/subscribe",
  call: "/macula/rpc/call",
  content: "/macula/content/fetch",
  request: "/macula/request",
  stream: "/macula/stream",
  "state-write": "/macula/state/write",
  "state-read": "/macula/state/read",
};

/** What an admitted app may declare (`MeshApp.meshCapabilities`). */
export type AppCapability = "publish" | "subscribe" | "call" | "register" | "provide_content" | "consume_content";

/** Every valid app capability. */
export const APP_CAPABILITIES: readonly AppCapability[] = [
  "publish",
  "subscribe",
  "call",
  "register",
  "provide_content",
  "consume_content",
];

/** The command each app capability needs a delegation for. */
export const CAPABILITY_COMMANDS: Readonly<Record<AppCapability, string>> = {
  publish: "/macula/pubsub/publish",
  subscribe: "/macula/pubsub/subscribe",
  call: "/macula/rpc/call",
  register: "/macula/rpc/register",
  provide_content: "/macula/content/provide",
  consume_content: "/macula/content/fetch",
};

/** The arguments a UCAN policy is evaluated against. */
export interface OperationArgs {
  /** The realm of the operation ("" when it has none). */
  realm: string;
  /** What it is on: topic, pattern, procedure, MCID, handler or protocol id. */
  name: string;
  /** Index signature, so that the arguments are a plain policy input. */
  [key: string]: unknown;
}

/**
 * The command and arguments of `op`.
 *
 * @example
 * ```ts
 * import { operationInvocation } from "./commands.ts";
 * operationInvocation({ kind: "publish", name: "io.acme.plant3.temp", realm: "io.acme" });
 * // { cmd: "/macula/pubsub/publish", args: { realm: "io.acme", name: "io.acme.plant3.temp" } }
 * ```
 */
export function operationInvocation(op: Operation): { cmd: string; args: OperationArgs } {
  return { cmd: OPERATION_COMMANDS[op.kind], args: { realm: op.realm ?? "", name: op.name } };
}

/**
 * The command a release publisher's chain must cover (with `{ realm, name }`
 * of the artifact's name), see `src/registry`.
 */
export const REGISTRY_PUBLISH_COMMAND = "/macula/registry/publish";

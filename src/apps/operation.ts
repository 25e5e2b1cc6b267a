/**
 * The per-operation check of an admitted app (Macula's
 * `validate_operation`): the capability is declared, the resource is in the
 * declared API, and the app's UCAN chain covers the operation.
 *
 * @module
 */
import { CAPABILITY_COMMANDS } from "../auth/commands.ts";
import { isPublicTopic } from "../auth/namespace.ts";
import type { VerifiedChain } from "../ucan/mod.ts";
import { declares } from "./api-spec.ts";
import type { AppManifest, AppOperation } from "./app.ts";
import { OperationRefusedError } from "./errors.ts";

/** The chain's view the checks need: `covers` and `explain` of a `VerifiedChain`. */
export type CoveringChain = Pick<VerifiedChain, "covers" | "explain">;

/**
 * The name a capability is checked on: the topic, pattern or procedure
 * itself; for content (addressed by hash, not by name) the app's identity,
 * so that a namespace policy confines it to the app's own namespace.
 */
function coveredName(manifest: AppManifest, op: AppOperation, resource: string): string {
  return op === "provide_content" || op === "consume_content" ? manifest.identity : resource;
}

/**
 * Why `chain` does not cover `op` on `resource` for the app of `manifest`,
 * or `undefined` when it does. A subscription to a public topic
 * (`isPublicTopic`) needs no capability beyond realm membership, which the
 * verified chain itself proves.
 *
 * @example
 * ```ts
 * import { coverageProblem } from "./operation.ts";
 * import type { AppManifest } from "./app.ts";
 * declare const manifest: AppManifest;
 * declare const chain: import("./operation.ts").CoveringChain;
 * coverageProblem(manifest, chain, "publish", "io.acme.plant3.temp"); // undefined when covered
 * ```
 */
export function coverageProblem(
  manifest: AppManifest,
  chain: CoveringChain,
  op: AppOperation,
  resource: string,
): string | undefined {
  if (op === "subscribe" && isPublicTopic(resource)) return undefined;
  const cmd = CAPABILITY_COMMANDS[op];
  const args = { realm: manifest.realm, name: coveredName(manifest, op, resource) };
  if (chain.covers(cmd, args)) return undefined;
  return chain.explain(cmd, args) ?? `the proof does not cover ${cmd} on ${args.name}`;
}

/**
 * Check one operation of an admitted app; throws `OperationRefusedError`:
 * `capability_not_declared` (an app that declared only `subscribe` cannot
 * publish), `resource_not_declared` (not in the app's declared API), or
 * `not_covered` (the app's chain does not cover the operation's command on
 * the resource in the app's realm).
 *
 * @example
 * ```ts
 * import { validateOperation } from "./operation.ts";
 * import type { AppManifest } from "./app.ts";
 * declare const manifest: AppManifest; // capabilities: ["subscribe"]
 * declare const chain: import("./operation.ts").CoveringChain;
 * validateOperation(manifest, chain, "subscribe", "io.acme.plant3.temp"); // ok when declared and covered
 * // validateOperation(manifest, chain, "publish", "io.acme.plant3.temp") throws (capability_not_declared)
 * ```
 */
export function validateOperation(
  manifest: AppManifest,
  chain: CoveringChain,
  op: AppOperation,
  resource: string,
): void {
  if (!manifest.capabilities.includes(op)) {
    throw new OperationRefusedError(
      "capability_not_declared",
      op,
      resource,
      `${manifest.identity} did not declare the ${op} capability`,
    );
  }
  if (typeof resource !== "string" || !declares(manifest.api, op, resource)) {
    throw new OperationRefusedError(
      "resource_not_declared",
      op,
      String(resource),
      `not in the declared API of ${manifest.identity}`,
    );
  }
  const problem = coverageProblem(manifest, chain, op, resource);
  if (problem !== undefined) throw new OperationRefusedError("not_covered", op, resource, problem);
}

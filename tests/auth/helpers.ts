/** Test helper: authorities, chains and closed-realm meshes of in-memory nodes. */
import { KeyPair } from "../../src/identity/ed25519.ts";
import type { Node, NodeOptions } from "../../src/api/node.ts";
import type { AuthOptions } from "../../src/auth/auth-service.ts";
import { delegate, type Delegation, type Policy, signerFromKeyPair, type UcanSigner } from "../../src/ucan/mod.ts";
import { joinedNodes, type MemoryNetwork } from "../helpers/nodes.ts";

/** The realm the tests close. */
export const REALM = "plant";

/** A fresh Ed25519 signer (an authority, an owner, an app). */
export function newSigner(): UcanSigner {
  return signerFromKeyPair(KeyPair.generate());
}

/** An hour from now, seconds. */
export function inAnHour(): number {
  return Math.floor(Date.now() / 1000) + 3600;
}

/** A one-link chain from `authority` to `audience` (a did or a node) for `cmd`, confined by `pol`. */
export function grant(
  authority: UcanSigner,
  audience: string | Node,
  cmd: string,
  pol: Policy = [],
  exp: number | null = inAnHour(),
): Delegation[] {
  const aud = typeof audience === "string" ? audience : audience.did;
  return [delegate(authority, { aud, sub: authority.did, cmd, pol, exp })];
}

/** The auth options of a node of a realm closed under `authority`. */
export function closedAuth(authority: UcanSigner, extra: AuthOptions = {}): AuthOptions {
  return { realms: { [REALM]: { policy: "closed", authorities: [authority.did] } }, ...extra };
}

/**
 * `length` in-memory nodes in the closed realm (a chain a - b - c - …
 * joined into its DHT); `options(i)` adds to node `i`'s options.
 */
export function closedMesh(
  network: MemoryNetwork,
  authority: UcanSigner,
  length: number,
  options: (index: number) => Partial<NodeOptions> = () => ({}),
  shape: "chain" | "star" = "chain",
): Promise<Node[]> {
  return joinedNodes(network, length, shape, (i) => {
    const extra = options(i);
    const auth = extra.auth === false ? false : closedAuth(authority, extra.auth ?? {});
    return { realms: [REALM], ...extra, auth };
  });
}

/** Stop every node. */
export async function stopAll(nodes: Node[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.stop()));
}

/** Wait `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

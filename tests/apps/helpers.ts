/** Test helpers for the gatekeeper: recording apps and namespace proof chains with real signatures. */
import type { AppCapability } from "../../src/auth/commands.ts";
import { namespacePolicy } from "../../src/auth/namespace.ts";
import type { MeshApi, MeshApp, MeshHealth } from "../../src/apps/app.ts";
import { KeyPair } from "../../src/identity/ed25519.ts";
import { encodeDidKey } from "../../src/identity/did.ts";
import { delegate, type Delegation, type Policy, signerFromKeyPair } from "../../src/ucan/mod.ts";

/** The did:key of `key`. */
export const didOf = (key: KeyPair): string => encodeDidKey(key.publicKey);

/** What a test app recorded. */
export interface Recorded {
  events: Array<{ topic: string; payload: Uint8Array; publisher: string }>;
  calls: Array<{ procedure: string; args: unknown; caller: string }>;
  received: Array<{ mcid: string; contentType: string; bytes: Uint8Array }>;
}

/** A test app whose declarations and health can be changed; it records what it gets. */
export interface TestApp extends MeshApp {
  recorded: Recorded;
  /** Set the answer of `meshHealth()`. */
  setHealth(answer: MeshHealth | "hang" | "throw"): void;
}

/** A working app `identity` with `capabilities` and `api` (overridable callbacks). */
export function testApp(
  identity: string,
  capabilities: AppCapability[],
  api: Partial<MeshApi> = {},
  overrides: Partial<Record<keyof MeshApp, unknown>> = {},
): TestApp {
  const recorded: Recorded = { events: [], calls: [], received: [] };
  let health: MeshHealth | "hang" | "throw" = true;
  const app: TestApp = {
    recorded,
    setHealth: (answer) => health = answer,
    meshIdentity: () => identity,
    meshCapabilities: () => capabilities,
    meshApi: () => ({ topics: [], procedures: [], contentTypes: [], ...api }),
    handleMeshEvent: (topic, payload, meta) => {
      recorded.events.push({ topic, payload, publisher: meta.publisher });
    },
    handleRpcCall: (procedure, args, meta) => {
      recorded.calls.push({ procedure, args, caller: meta.caller });
      return { ok: procedure, args };
    },
    provideContent: (contentType, name) =>
      contentType === "text/plain" ? new TextEncoder().encode(`content ${name}`) : undefined,
    contentReceived: (mcid, contentType, bytes) => {
      recorded.received.push({ mcid, contentType, bytes });
    },
    meshHealth: () => {
      if (health === "hang") return new Promise<MeshHealth>(() => {});
      if (health === "throw") throw new Error("health probe crashed");
      return health;
    },
  };
  return Object.assign(app, overrides) as TestApp;
}

/** Options of a namespace chain. */
export interface ChainSpec {
  /** cmd of each link (default "/macula"). */
  cmd?: string;
  /** pol of the owner → app link (default: namespacePolicy(ns)). */
  pol?: Policy;
  /** exp of every link (default: in an hour). */
  exp?: number | null;
  /** nbf of every link. */
  nbf?: number;
}

/** Seconds since the epoch. */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** The policy confining names to `ns`: `namespacePolicy`, or for a shorter prefix (`io.acme`) its glob. */
function policyOf(ns: string): Policy {
  if (ns.split(".").length >= 3) return namespacePolicy(ns) as unknown as Policy;
  return [["like", ".name", `${ns}.*`]];
}

/**
 * A proof chain: `authority` → `owner` (namespace `ownerNs`) → `app`
 * (namespace `appNs`, default `ownerNs`), root first, subject the authority.
 */
export function namespaceChain(
  authority: KeyPair,
  owner: KeyPair,
  app: KeyPair | string,
  ownerNs: string,
  appNs = ownerNs,
  spec: ChainSpec = {},
): Delegation[] {
  const sub = didOf(authority);
  const exp = spec.exp === undefined ? nowSeconds() + 3600 : spec.exp;
  const cmd = spec.cmd ?? "/macula";
  const root = delegate(signerFromKeyPair(authority), {
    aud: didOf(owner),
    sub,
    cmd,
    pol: policyOf(ownerNs),
    exp,
    nbf: spec.nbf,
  });
  const leaf = delegate(signerFromKeyPair(owner), {
    aud: typeof app === "string" ? app : didOf(app),
    sub,
    cmd,
    pol: spec.pol ?? policyOf(appNs),
    exp,
    nbf: spec.nbf,
  });
  return [root, leaf];
}

/** Keys of a scenario: an authority, a namespace owner and an app. */
export function keys(): { authority: KeyPair; owner: KeyPair; appKey: KeyPair } {
  return { authority: KeyPair.generate(), owner: KeyPair.generate(), appKey: KeyPair.generate() };
}

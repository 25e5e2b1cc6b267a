/**
 * The admission pipeline's steps, as functions of what an app declares and
 * the proof it brings (no node involved, so `macula app verify` runs them
 * too):
 *
 * 1. `checkCallbacks`: the eight callbacks are functions;
 * 2. `checkOwnership`: the identity is valid, the proof verifies (to the
 *    app's key) and covers `/macula` operations on the identity, i.e. it
 *    comes from the owner of a namespace containing it;
 * 3. `checkCapabilities`: known, distinct, each covered by the proof;
 * 4. `checkApi`: entries valid and inside the namespace, the ones wired at
 *    admission (subscriptions, registrations) covered by the proof.
 *
 * Step 5 (health) needs the running app: see `health.ts`.
 *
 * @module
 */
import { CAPABILITY_COMMANDS } from "../auth/commands.ts";
import type { AppCapability } from "../auth/commands.ts";
import { MIN_NAMESPACE_SEGMENTS } from "../auth/namespace.ts";
import { sha256 } from "../crypto/mod.ts";
import { decodeDidKey } from "../identity/did.ts";
import { type Delegation, parseChain, type VerifiedChain } from "../ucan/mod.ts";
import { toHex } from "../util/bytes.ts";
import { type ApiEntryProblem, validateApi, validateCapabilities, validateIdentity } from "./api-spec.ts";
import { type AppManifest, MESH_CALLBACKS, type MeshApi, type MeshApp } from "./app.ts";
import { AdmissionError } from "./errors.ts";
import { coverageProblem } from "./operation.ts";

/** Verifies a proof chain (root first) whose last audience must be `audience`; throws a UCAN error. */
export type ChainVerifier = (chain: readonly Delegation[], audience: string) => VerifiedChain;

/** What an app claims: its declarations, its key and its proof. */
export interface AppClaim {
  /** `meshIdentity()`. */
  identity: unknown;
  /** `meshCapabilities()`. */
  capabilities: unknown;
  /** `meshApi()`. */
  api: unknown;
  /** The app's key as a `did:key`: the audience of the proof's last link. */
  did: string;
  /** The proof chain, root first, or the text of a UCAN container holding it. */
  proof: readonly Delegation[] | string;
}

/** How to run steps 2–4. */
export interface ClaimOptions {
  /** Verifies the proof (signatures, linkage, roots, time, revocation). */
  verify: ChainVerifier;
  /** The realm the app is admitted in (the `realm` argument of every check). */
  realm: string;
  /** Wall clock, ms (for `verifiedAt`). Default `Date.now`. */
  clock?: () => number;
  /** Whether this node can serve a capability (e.g. no content service: no content capabilities). */
  available?: (capability: AppCapability) => boolean;
}

/** A verified claim: the manifest and the app's verified chain. */
export interface VerifiedClaim {
  /** What was verified. */
  manifest: AppManifest;
  /** The app's chain, ending at its key. */
  chain: VerifiedChain;
}

/**
 * Step 1: every `MeshApp` callback is a function. Throws `AdmissionError`
 * (`missing_callbacks`, details = the missing names).
 *
 * @example
 * ```ts
 * import { checkCallbacks } from "./pipeline.ts";
 * // checkCallbacks({ meshIdentity: () => "io.acme.plant3.x" }) throws: seven callbacks missing
 * ```
 */
export function checkCallbacks(app: unknown): MeshApp {
  const record = (typeof app === "object" || typeof app === "function") && app !== null
    ? app as Record<string, unknown>
    : {};
  const missing = MESH_CALLBACKS.filter((name) => typeof record[name] !== "function");
  if (missing.length) {
    throw new AdmissionError("missing_callbacks", `the app lacks ${missing.join(", ")}`, missing);
  }
  return app as MeshApp;
}

/** The proof as delegations, root first; throws `AdmissionError` (`invalid_proof`). */
function readProof(proof: readonly Delegation[] | string): readonly Delegation[] {
  let chain: readonly Delegation[];
  try {
    chain = typeof proof === "string" ? parseChain(proof) : proof;
  } catch (error) {
    throw new AdmissionError("invalid_proof", `unreadable proof: ${(error as Error).message}`, error, {
      cause: error,
    });
  }
  if (!Array.isArray(chain) || chain.length === 0) {
    throw new AdmissionError("invalid_proof", "the proof holds no delegation", undefined);
  }
  return chain;
}

/** Whether `chain` covers some capability's command on `name` in `realm`. */
function ownsName(chain: VerifiedChain, realm: string, name: string): boolean {
  return Object.values(CAPABILITY_COMMANDS).some((cmd) => chain.covers(cmd, { realm, name }));
}

/**
 * Step 2: the identity is valid and owned. The proof must verify with
 * audience `did` (else `invalid_proof`, the UCAN error inside) and cover
 * `/macula` operations on the identity (else `not_namespace_owner`). The
 * app's namespace is the shortest prefix of the identity (on whole
 * segments, at least three) the proof covers.
 *
 * @example
 * ```ts
 * import { checkOwnership } from "./pipeline.ts";
 * declare const proof: string; // a container: authority → owner of io.acme.plant3 → app
 * declare const verify: import("./pipeline.ts").ChainVerifier;
 * declare const appDid: string;
 * const { namespace } = checkOwnership("io.acme.plant3.weather", appDid, proof, "io.acme", verify);
 * namespace; // "io.acme.plant3"
 * ```
 */
export function checkOwnership(
  identity: unknown,
  did: string,
  proof: readonly Delegation[] | string,
  realm: string,
  verify: ChainVerifier,
): { identity: string; chain: VerifiedChain; namespace: string; keyFingerprint: string } {
  const id = validateIdentity(identity);
  let publicKey: Uint8Array;
  try {
    publicKey = decodeDidKey(did);
  } catch (error) {
    throw new AdmissionError("invalid_proof", `the app's key is not an Ed25519 did:key: ${(error as Error).message}`, {
      did,
    }, { cause: error });
  }
  const links = readProof(proof);
  let chain: VerifiedChain;
  try {
    chain = verify(links, did);
  } catch (error) {
    const name = (error as Error)?.name ?? "Error";
    throw new AdmissionError("invalid_proof", `${name}: ${(error as Error)?.message ?? error}`, error, {
      cause: error,
    });
  }
  if (!ownsName(chain, realm, id)) {
    const why = chain.explain(CAPABILITY_COMMANDS.subscribe, { realm, name: id });
    throw new AdmissionError(
      "not_namespace_owner",
      `the proof does not come from the owner of a namespace containing ${id}${why ? ` (${why})` : ""}`,
      { identity: id, subject: chain.subject, explain: why },
    );
  }
  const parts = id.split(".");
  let namespace = id;
  for (let k = MIN_NAMESPACE_SEGMENTS; k < parts.length; k++) {
    const prefix = parts.slice(0, k).join(".");
    if (ownsName(chain, realm, prefix)) {
      namespace = prefix;
      break;
    }
  }
  return { identity: id, chain, namespace, keyFingerprint: toHex(sha256(publicKey)) };
}

/**
 * Step 3: capabilities are distinct members of `APP_CAPABILITIES`,
 * available here, and each covered by `chain` on the app's identity. Throws
 * `AdmissionError` (`invalid_capability`, details = `{ invalid, duplicates }`
 * or `{ uncovered }` or `{ unavailable }`).
 */
export function checkCapabilities(
  capabilities: unknown,
  manifest: Pick<AppManifest, "identity" | "realm">,
  chain: VerifiedChain,
  available: (capability: AppCapability) => boolean = () => true,
): AppCapability[] {
  const caps = validateCapabilities(capabilities);
  const unavailable = caps.filter((c) => !available(c));
  if (unavailable.length) {
    throw new AdmissionError(
      "invalid_capability",
      `this node cannot serve ${unavailable.join(", ")} (is its content service off?)`,
      { unavailable },
    );
  }
  const uncovered = caps.filter((c) =>
    !chain.covers(CAPABILITY_COMMANDS[c], { realm: manifest.realm, name: manifest.identity })
  );
  if (uncovered.length) {
    throw new AdmissionError(
      "invalid_capability",
      `the proof does not cover ${uncovered.map((c) => `${c} (${CAPABILITY_COMMANDS[c]})`).join(", ")}`,
      { uncovered },
    );
  }
  return caps;
}

/**
 * Step 4: API entries valid and inside `manifest.namespace` (`validateApi`),
 * and the entries the gatekeeper wires at admission covered by `chain`:
 * each topic for `subscribe`, each procedure for `register`, when declared.
 * Throws `AdmissionError` (`invalid_api_entries`, details = `ApiEntryProblem[]`).
 */
export function checkApi(
  api: unknown,
  manifest: Omit<AppManifest, "api">,
  chain: VerifiedChain,
): MeshApi {
  const valid = validateApi(api, manifest.namespace);
  const full: AppManifest = { ...manifest, api: valid };
  const problems: ApiEntryProblem[] = [];
  if (manifest.capabilities.includes("subscribe")) {
    for (const topic of valid.topics) {
      const why = coverageProblem(full, chain, "subscribe", topic);
      if (why) problems.push({ kind: "topic", entry: topic, reason: `not covered for subscribe: ${why}` });
    }
  }
  if (manifest.capabilities.includes("register")) {
    for (const procedure of valid.procedures) {
      const why = coverageProblem(full, chain, "register", procedure);
      if (why) problems.push({ kind: "procedure", entry: procedure, reason: `not covered for register: ${why}` });
    }
  }
  if (problems.length) {
    throw new AdmissionError(
      "invalid_api_entries",
      problems.slice(0, 3).map((p) => `${p.kind} ${JSON.stringify(p.entry)}: ${p.reason}`).join("; "),
      problems,
    );
  }
  return valid;
}

/**
 * Steps 2–4 on a claim: the manifest and the verified chain, or an
 * `AdmissionError` naming the first failed step.
 *
 * @example
 * ```ts
 * import { verifyClaim } from "./pipeline.ts";
 * declare const verify: import("./pipeline.ts").ChainVerifier;
 * declare const claim: import("./pipeline.ts").AppClaim;
 * const { manifest } = verifyClaim(claim, { verify, realm: "io.acme" });
 * console.log(manifest.namespace, manifest.keyFingerprint);
 * ```
 */
export function verifyClaim(claim: AppClaim, options: ClaimOptions): VerifiedClaim {
  const { realm } = options;
  const owned = checkOwnership(claim.identity, claim.did, claim.proof, realm, options.verify);
  const { chain } = owned;
  const base = { identity: owned.identity, realm };
  const capabilities = checkCapabilities(claim.capabilities, base, chain, options.available);
  const partial: Omit<AppManifest, "api"> = {
    identity: owned.identity,
    namespace: owned.namespace,
    realm,
    capabilities,
    keyFingerprint: owned.keyFingerprint,
    did: claim.did,
    verifiedAt: new Date((options.clock ?? Date.now)()).toISOString(),
    expires: chain.expires,
  };
  const api = checkApi(claim.api, partial, chain);
  return { manifest: { ...partial, api }, chain };
}

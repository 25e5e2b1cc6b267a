/**
 * App manifests as files, for `macula app verify manifest.json`: a JSON
 * object `{ identity, capabilities, api: { topics, procedures,
 * contentTypes }, did, proof }` (`proof` = the text of a UCAN container
 * holding the chain, root first, ending at `did`) checked by admission steps
 * 2–4 — no callbacks and no health, since no app runs.
 *
 * @module
 */
import { type ChainOptions, verifyChain } from "../ucan/mod.ts";
import { MaculaError } from "../util/errors.ts";
import type { AppManifest } from "./app.ts";
import { AdmissionError } from "./errors.ts";
import { type AppClaim, verifyClaim } from "./pipeline.ts";
import type { VerifiedChain } from "../ucan/mod.ts";

/** Largest manifest text accepted, characters. */
export const MAX_MANIFEST_TEXT = 256 * 1024;

/** A manifest that is not a JSON object. */
export class ManifestError extends MaculaError {
  /** `message` says what is wrong with the manifest. */
  constructor(message: string, options?: ErrorOptions) {
    super("E_APP_MANIFEST_INVALID", message, options);
  }
}

/**
 * The claim of a manifest: a JSON text or an already parsed value. Throws
 * `ManifestError` when it is not a JSON object, `AdmissionError`
 * (`invalid_proof`) when `did` or `proof` is not a string; the other fields
 * are checked by the pipeline.
 *
 * @example
 * ```ts
 * import { manifestFromJson } from "./manifest-file.ts";
 * const claim = manifestFromJson(
 *   '{"identity":"io.acme.plant3.weather","capabilities":[],"api":{"topics":[],"procedures":[],"contentTypes":[]},' +
 *     '"did":"did:key:z6Mk…","proof":"…"}',
 * );
 * claim.identity; // "io.acme.plant3.weather"
 * ```
 */
export function manifestFromJson(json: unknown): AppClaim {
  let value = json;
  if (typeof json === "string") {
    if (json.length > MAX_MANIFEST_TEXT) throw new ManifestError(`a manifest is at most ${MAX_MANIFEST_TEXT} bytes`);
    try {
      value = JSON.parse(json);
    } catch (error) {
      throw new ManifestError(`the manifest is not JSON: ${(error as Error).message}`, { cause: error });
    }
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ManifestError("a manifest is a JSON object { identity, capabilities, api, did, proof }");
  }
  const record = value as Record<string, unknown>;
  if (typeof record.did !== "string") {
    throw new AdmissionError("invalid_proof", "the manifest's did (the app's did:key) is missing", { did: record.did });
  }
  if (typeof record.proof !== "string") {
    throw new AdmissionError("invalid_proof", "the manifest's proof (a UCAN container text) is missing", undefined);
  }
  return {
    identity: record.identity,
    capabilities: record.capabilities,
    api: record.api,
    did: record.did,
    proof: record.proof,
  };
}

/** How to check a manifest file. */
export interface ManifestCheckOptions {
  /** The realm to check it for. Default `"default"`. */
  realm?: string;
  /** The realm's authorities (`did:key`); absent or empty = any self-rooted subject. */
  roots?: readonly string[];
  /** Now, seconds since the epoch; `undefined` = no trustworthy clock. Default: the system clock. */
  now?: number;
  /** Clock skew allowed, seconds. Default 60. */
  skew?: number;
  /** Revocations known (see `ChainOptions.isRevoked`). */
  isRevoked?: ChainOptions["isRevoked"];
}

/** The outcome of `verifyManifest`: the manifest, or the error naming the failed step. */
export type ManifestCheck =
  | { ok: true; manifest: AppManifest; chain: VerifiedChain }
  | { ok: false; error: AdmissionError | ManifestError };

/**
 * Run admission steps 2–4 on a manifest (`manifestFromJson`): identity and
 * ownership, capabilities, API entries.
 *
 * @example
 * ```ts
 * import { verifyManifest } from "./manifest-file.ts";
 * declare const text: string; // manifest.json
 * const check = verifyManifest(text, { realm: "io.acme", roots: ["did:key:z6Mk…"] });
 * if (check.ok) console.log(check.manifest.namespace);
 * else console.log(check.error.message);
 * ```
 */
export function verifyManifest(json: unknown, options: ManifestCheckOptions = {}): ManifestCheck {
  const now = "now" in options ? options.now : Math.floor(Date.now() / 1000);
  const roots = options.roots?.length ? new Set(options.roots) : undefined;
  try {
    const claim = manifestFromJson(json);
    const verified = verifyClaim(claim, {
      realm: options.realm ?? "default",
      verify: (chain, audience) =>
        verifyChain(chain, { audience, roots, now, skew: options.skew, isRevoked: options.isRevoked }),
    });
    return { ok: true, ...verified };
  } catch (error) {
    if (error instanceof AdmissionError || error instanceof ManifestError) return { ok: false, error };
    throw error;
  }
}

/**
 * The UCAN specification's fixtures (copied in tests/ucan/fixtures/, MIT):
 * loading, base64 decoding, and the repair policy.json needs.
 */
import { KeyPair } from "../../../src/identity/ed25519.ts";
import { signerFromKeyPair, type UcanSigner } from "../../../src/ucan/mod.ts";

/** The fixture versions held. */
export const VERSIONS = ["1.0.0", "1.0.0-rc.1"] as const;

const DIR = new URL("../fixtures/", import.meta.url);

/** The bytes of base64 text (standard or URL alphabet, padded or not). */
export function fromBase64(text: string): Uint8Array {
  const std = text.replace(/-/g, "+").replace(/_/g, "/");
  const padded = std + "===".slice((std.length + 3) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

/** A fixture file's text. */
export function fixtureText(version: string, file: string): string {
  return Deno.readTextFileSync(new URL(`${version}/${file}`, DIR));
}

/**
 * policy.json upstream has one stray `{` (an object with no key inside
 * `newsletters`): remove it and the `}` that closes it, so the file parses.
 */
export function repairPolicyJson(text: string): string {
  const stray = /("newsletters":\s*\{)\s*\{/.exec(text);
  if (!stray) return text;
  const open = stray.index + stray[0].length - 1;
  let depth = 0;
  let inString = false;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{") depth++;
    else if (c === "}" && --depth === 0) {
      return text.slice(0, open) + text.slice(open + 1, i) + text.slice(i + 1);
    }
  }
  throw new Error("policy.json: unbalanced stray brace");
}

/** A DAG-JSON bytes link: `{"/": {"bytes": base64}}`. */
export interface BytesLink {
  "/": { bytes: string };
}

/** One case of invocation.json. */
export interface InvocationCase {
  name: string;
  description: string;
  invocation: BytesLink;
  proofs: BytesLink[];
  time: number;
  error?: { name: string };
}

/** invocation.json of `version`. */
export function invocationCases(version: string): { valid: InvocationCase[]; invalid: InvocationCase[] } {
  return JSON.parse(fixtureText(version, "invocation.json"));
}

/** One group of policy.json: arguments and policies that all pass (valid) or all fail (invalid). */
export interface PolicyCase {
  args: Record<string, unknown>;
  policies: unknown[][];
}

/** policy.json of `version`, repaired. */
export function policyCases(version: string): { valid: PolicyCase[]; invalid: PolicyCase[] } {
  return JSON.parse(repairPolicyJson(fixtureText(version, "policy.json")));
}

/** delegation.json of `version`. */
export interface DelegationFixture {
  principals: Record<string, string>;
  valid: { name: string; token: string; cid: string; envelope: { payload: Record<string, unknown> } }[];
}

/** delegation.json of `version`. */
export function delegationFixture(version: string): DelegationFixture {
  return JSON.parse(fixtureText(version, "delegation.json"));
}

/** A principal of delegation.json: base64pad(varint 0x1300 ‖ Ed25519 seed). */
export function principalSigner(encoded: string): UcanSigner {
  const bytes = fromBase64(encoded);
  if (bytes[0] !== 0x80 || bytes[1] !== 0x26 || bytes.length !== 34) throw new Error("not an Ed25519 private key");
  return signerFromKeyPair(KeyPair.fromSeed(bytes.slice(2)));
}

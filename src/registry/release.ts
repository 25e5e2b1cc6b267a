/**
 * Release records: what a publisher signs about one version of an artifact.
 *
 * A record names the artifact (`name`, a namespace such as
 * `io.acme.sensor-agent`), its `version` (semver), the content id (`mcid`)
 * and `size` of the artifact stored as content, its target `arch`, release
 * `notes`, the `issuer` (`did:key` of the signing node) and the `chain` of
 * UCAN delegations (root first) proving the issuer may publish under the
 * name (`/macula/registry/publish`). The signature covers every field:
 *
 * ```
 * sig = Ed25519(0xff "macula-service/registry/release" 0x00
 *               CBOR["macula-release/1", name, version, mcid, size, arch,
 *                    notes, issuer, [chain bytes…], issued])
 * ```
 *
 * @module
 */
import { validateNamespace } from "../auth/namespace.ts";
import { Mcid } from "../content/mcid.ts";
import { decodeDidKey } from "../identity/did.ts";
import { verifyDomain } from "../identity/domain-signature.ts";
import { Delegation } from "../ucan/delegation.ts";
import { encodeCbor } from "../wire/cbor.ts";
import { array, bytes, literal, messageDecoder, object, str, uint } from "../wire/schema.ts";
import { InvalidReleaseError, ReleaseSignatureError } from "./errors.ts";

/** The signature domain of release records. */
export const RELEASE_DOMAIN = "registry/release";
/** Longest release notes, in characters. */
export const MAX_NOTES = 2048;
/** Most delegations in a release's chain. */
export const MAX_RELEASE_CHAIN = 8;
/** Largest encoded release record. */
export const MAX_RELEASE_BYTES = 16 * 1024;

const SEMVER =
  /^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;
const ARCH = /^[a-z0-9_]{1,32}$/;

/** The fields a publisher fills in; the registry adds issuer, chain, time and signature. */
export interface ReleaseFields {
  /** Artifact name: a namespace of at least three segments (`io.acme.sensor-agent`). */
  name: string;
  /** Semantic version (`1.4.0`, `2.0.0-rc.1`). */
  version: string;
  /** Content id of the artifact. */
  mcid: string;
  /** Artifact size in bytes (equals the MCID's size). */
  size: number;
  /** Target architecture (`x86_64`, `aarch64`, `armv7`, or `any`). */
  arch: string;
  /** Release notes (at most `MAX_NOTES` characters). */
  notes: string;
}

/** A signed release record. */
export interface Release extends ReleaseFields {
  /** The signer's `did:key` (the publishing node). */
  issuer: string;
  /** UCAN delegations, root first, whose last audience is `issuer`. */
  chain: Delegation[];
  /** When it was signed (ms since the epoch). */
  issued: number;
  /** Ed25519 signature over `releaseSigned(…)` in `RELEASE_DOMAIN`. */
  sig: Uint8Array;
}

/** Throw `InvalidReleaseError` unless `version` is a semantic version. */
export function validateVersion(version: string): void {
  if (typeof version !== "string" || version.length > 64 || !SEMVER.test(version)) {
    throw new InvalidReleaseError(`version ${JSON.stringify(String(version).slice(0, 70))} is not semver (1.4.0)`);
  }
}

/**
 * Compare two semantic versions: negative when `a` < `b`, 0 when equal
 * in precedence, positive when `a` > `b` (pre-releases sort before the
 * release; build metadata is ignored).
 *
 * @example
 * ```ts
 * import { compareVersions } from "./release.ts";
 * compareVersions("1.10.0", "1.9.3") > 0; // true
 * compareVersions("2.0.0-rc.1", "2.0.0") < 0; // true
 * ```
 */
export function compareVersions(a: string, b: string): number {
  const pa = SEMVER.exec(a), pb = SEMVER.exec(b);
  if (!pa || !pb) throw new InvalidReleaseError(`not semver: ${!pa ? a : b}`);
  for (let i = 1; i <= 3; i++) {
    const d = Number(pa[i]) - Number(pb[i]);
    if (d !== 0) return d;
  }
  const ra = pa[4], rb = pb[4];
  if (ra === undefined || rb === undefined) return ra === rb ? 0 : ra === undefined ? 1 : -1;
  const xa = ra.split("."), xb = rb.split(".");
  for (let i = 0; i < Math.min(xa.length, xb.length); i++) {
    const na = /^\d+$/.test(xa[i]), nb = /^\d+$/.test(xb[i]);
    if (na && nb) {
      const d = Number(xa[i]) - Number(xb[i]);
      if (d !== 0) return d;
    } else if (na !== nb) return na ? -1 : 1;
    else if (xa[i] !== xb[i]) return xa[i] < xb[i] ? -1 : 1;
  }
  return xa.length - xb.length;
}

/** Throw `InvalidReleaseError` unless the publisher's fields are valid. */
export function validateFields(f: ReleaseFields): void {
  try {
    validateNamespace(f.name);
  } catch (error) {
    throw new InvalidReleaseError(`name: ${(error as Error).message}`, { cause: error });
  }
  validateVersion(f.version);
  let mcid: Mcid;
  try {
    mcid = Mcid.parse(f.mcid);
  } catch (error) {
    throw new InvalidReleaseError(`mcid: ${(error as Error).message}`, { cause: error });
  }
  if (!Number.isSafeInteger(f.size) || f.size !== mcid.size) {
    throw new InvalidReleaseError(`size ${f.size} does not match the content id's size ${mcid.size}`);
  }
  if (typeof f.arch !== "string" || !ARCH.test(f.arch)) {
    throw new InvalidReleaseError(`arch ${JSON.stringify(String(f.arch).slice(0, 40))} is not 1-32 of a-z 0-9 _`);
  }
  if (typeof f.notes !== "string" || f.notes.length > MAX_NOTES) {
    throw new InvalidReleaseError(`notes are at most ${MAX_NOTES} characters`);
  }
}

/** The bytes the issuer signs (see the module doc). */
export function releaseSigned(r: Omit<Release, "sig">): Uint8Array {
  return encodeCbor([
    "macula-release/1",
    r.name,
    r.version,
    r.mcid,
    r.size,
    r.arch,
    r.notes,
    r.issuer,
    r.chain.map((d) => d.bytes),
    r.issued,
  ]);
}

/**
 * Sign a release with `sign` (a node's `ServiceHost.sign`), as `issuer`.
 * Throws `InvalidReleaseError` for invalid fields.
 *
 * @example
 * ```ts
 * import { KeyPair } from "../identity/ed25519.ts";
 * import { encodeDidKey } from "../identity/did.ts";
 * import { domainSeparated } from "../identity/domain-signature.ts";
 * import { hashBytes } from "../content/tree.ts";
 * import { checkReleaseSignature, signRelease } from "./release.ts";
 * const key = KeyPair.generate();
 * const data = new TextEncoder().encode("agent v1");
 * const mcid = (await hashBytes(data)).mcid.toString();
 * const release = signRelease(
 *   { name: "io.acme.agent", version: "1.0.0", mcid, size: data.length, arch: "any", notes: "" },
 *   encodeDidKey(key.publicKey),
 *   [],
 *   (domain, msg) => key.sign(domainSeparated(domain, msg)),
 * );
 * checkReleaseSignature(release); // ok
 * ```
 */
export function signRelease(
  fields: ReleaseFields,
  issuer: string,
  chain: readonly Delegation[],
  sign: (domain: string, message: Uint8Array) => Uint8Array,
  issued: number = Date.now(),
): Release {
  validateFields(fields);
  const unsigned = {
    name: fields.name,
    version: fields.version,
    mcid: fields.mcid,
    size: fields.size,
    arch: fields.arch,
    notes: fields.notes,
    issuer,
    chain: [...chain],
    issued,
  };
  return { ...unsigned, sig: sign(RELEASE_DOMAIN, releaseSigned(unsigned)) };
}

/** Throw `ReleaseSignatureError` unless `r.sig` is the issuer's signature over the record. */
export function checkReleaseSignature(r: Release): void {
  let key: Uint8Array;
  try {
    key = decodeDidKey(r.issuer);
  } catch (error) {
    throw new InvalidReleaseError(`issuer: ${(error as Error).message}`, { cause: error });
  }
  if (!verifyDomain(key, RELEASE_DOMAIN, releaseSigned(r), r.sig)) {
    throw new ReleaseSignatureError(
      `release ${r.name}@${r.version}: the signature does not verify for ${r.issuer} (tampered or not signed by it)`,
    );
  }
}

/** The wire form of a release (CBOR map). */
export function encodeRelease(r: Release): Uint8Array {
  return encodeCbor({
    v: 1,
    n: r.name,
    ver: r.version,
    m: r.mcid,
    z: r.size,
    a: r.arch,
    o: r.notes,
    i: r.issuer,
    c: r.chain.map((d) => d.bytes),
    t: r.issued,
    s: r.sig,
  });
}

const decodeShape = messageDecoder(
  "release record",
  object({
    v: literal(1),
    n: str({ min: 1, max: 255 }),
    ver: str({ min: 5, max: 64 }),
    m: str({ min: 1, max: 128 }),
    z: uint(),
    a: str({ min: 1, max: 32 }),
    o: str({ max: MAX_NOTES }),
    i: str({ min: 1, max: 128 }),
    c: array(bytes({ max: 4096 }), { max: MAX_RELEASE_CHAIN }),
    t: uint(),
    s: bytes({ length: 64 }),
  }),
);

/**
 * Decode and validate a release record, and check its signature. Throws
 * `InvalidReleaseError` (malformed, invalid field or delegation) or
 * `ReleaseSignatureError` (the signature does not verify). The chain is
 * decoded, not yet verified: `verifyRelease` does that.
 *
 * @example
 * ```ts
 * import { decodeRelease } from "./release.ts";
 * try {
 *   decodeRelease(new Uint8Array([1, 2, 3]));
 * } catch (e) {
 *   (e as Error).name; // "InvalidReleaseError"
 * }
 * ```
 */
export function decodeRelease(input: Uint8Array): Release {
  if (!(input instanceof Uint8Array) || input.length > MAX_RELEASE_BYTES) {
    throw new InvalidReleaseError(`a record is at most ${MAX_RELEASE_BYTES} bytes`);
  }
  let raw;
  try {
    raw = decodeShape(input);
  } catch (error) {
    throw new InvalidReleaseError((error as Error).message, { cause: error });
  }
  const chain = raw.c.map((b, i) => {
    try {
      return Delegation.decode(b);
    } catch (error) {
      throw new InvalidReleaseError(`chain[${i}]: ${(error as Error).message}`, { cause: error });
    }
  });
  const release: Release = {
    name: raw.n,
    version: raw.ver,
    mcid: raw.m,
    size: raw.z,
    arch: raw.a,
    notes: raw.o,
    issuer: raw.i,
    chain,
    issued: raw.t,
    sig: raw.s,
  };
  validateFields(release);
  checkReleaseSignature(release);
  return release;
}

/** The JSON view of a release (for the CLI and HTTP routes). */
export interface ReleaseJson extends ReleaseFields {
  /** The signer's did. */
  issuer: string;
  /** The chain's delegation CIDs, root first. */
  chain: string[];
  /** ISO time of signing. */
  issued: string;
}

/** `r` as JSON. */
export function releaseJson(r: Release): ReleaseJson {
  return {
    name: r.name,
    version: r.version,
    mcid: r.mcid,
    size: r.size,
    arch: r.arch,
    notes: r.notes,
    issuer: r.issuer,
    chain: r.chain.map((d) => d.cid.toString()),
    issued: new Date(r.issued).toISOString(),
  };
}

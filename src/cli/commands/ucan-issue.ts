/**
 * `macula ucan issue`: sign a delegation with the data dir key. Without
 * `--proof` it is a root (the issuer is the subject); with `--proof` it is
 * appended to that chain, whose last audience must be this key. Prints the
 * container text of the whole chain, root first.
 *
 * @module
 */
import { decodeDidKey } from "../../identity/did.ts";
import type { Platform } from "../../platform/types.ts";
import {
  commandProves,
  delegate,
  type Delegation,
  encodeContainer,
  type Policy,
  type UcanSigner,
  validateCommand,
  validatePolicy,
  verifyChain,
} from "../../ucan/mod.ts";
import { parseWithPositionals, UsageError } from "../args.ts";
import { UCAN_HELP } from "../help-ucan.ts";
import { describeExpiry, isoSeconds, parseTimeFlag } from "../time-flags.ts";
import { dataDirOf, dataDirSigner, InvalidTokenError, nowSeconds, readProof, writeOutput } from "./token-io.ts";

/** Expiry of a delegation issued without `--exp`. */
export const DEFAULT_EXPIRY = "30d";

/** What one new link of a chain is made of. */
export interface LinkRequest {
  aud: string;
  cmd: string;
  pol: Policy;
  /** `--sub`; absent = the issuer (root) or the proof's subject. */
  sub?: string;
  /** `--exp` text (default `DEFAULT_EXPIRY`). */
  exp?: string;
  /** `--nbf` text. */
  nbf?: string;
  /** `--proof` argument. */
  proof?: string;
  /**
   * Checks the proof chain must pass besides command coverage (e.g. that a
   * namespace lies inside the proof's); throws to refuse.
   */
  checkProof?(chain: ReturnType<typeof verifyChain>): void;
}

/** A did:key flag value, or a `UsageError` naming the flag. */
export function didFlag(value: string | undefined, flag: string): string {
  if (value === undefined) throw new UsageError(`${flag} is required (a did:key, e.g. from "macula id")`);
  try {
    decodeDidKey(value.trim());
  } catch (error) {
    throw new UsageError(`invalid ${flag}: ${(error as Error).message}`);
  }
  return value.trim();
}

/** A command flag value (`/macula/pubsub`), or a `UsageError`. */
export function commandFlag(value: string | undefined, flag = "--cmd"): string {
  if (value === undefined) throw new UsageError(`${flag} is required (a command such as /macula/pubsub)`);
  try {
    validateCommand(value);
  } catch (error) {
    throw new UsageError(`invalid ${flag} ${JSON.stringify(value)}: ${(error as Error).message}`);
  }
  return value;
}

/** A `--pol` JSON value, or a `UsageError`. */
export function policyFlag(value: string | undefined): Policy {
  if (value === undefined) return [];
  let doc: unknown;
  try {
    doc = JSON.parse(value);
  } catch (error) {
    throw new UsageError(`invalid --pol: not JSON (${(error as Error).message})`);
  }
  try {
    return validatePolicy(doc);
  } catch (error) {
    throw new UsageError(`invalid --pol: ${(error as Error).message}`);
  }
}

/** A signed chain and a line describing its new link. */
export interface IssuedChain {
  /** The whole chain, root first. */
  chain: Delegation[];
  /** "issued CID: CMD from … to …, expires in …". */
  summary: string;
}

/**
 * Sign the link `req` describes with `signer`; returns the whole chain, root
 * first. A note about a shortened expiry goes to stderr.
 */
export async function issueLink(signer: UcanSigner, req: LinkRequest, platform: Platform): Promise<IssuedChain> {
  const now = nowSeconds();
  let exp = parseTimeFlag(req.exp ?? DEFAULT_EXPIRY, "--exp", now);
  const nbf = req.nbf === undefined ? undefined : parseTimeFlag(req.nbf, "--nbf", now) ?? undefined;
  if (exp !== null && nbf !== undefined && exp <= nbf) throw new UsageError("--exp must come after --nbf");
  let proof: Delegation[] = [];
  let sub: string = req.sub ?? signer.did;
  if (req.proof !== undefined) {
    proof = await readProof(req.proof, platform);
    const last = proof[proof.length - 1];
    if (last.aud !== signer.did) {
      throw new InvalidTokenError(
        `the proof is delegated to ${last.aud}, not to this key ${signer.did}: only its audience can extend it (use that --data-dir)`,
      );
    }
    let chain;
    try {
      chain = verifyChain(proof, { audience: signer.did, now });
    } catch (error) {
      throw new InvalidTokenError(`the proof cannot be used: ${(error as Error).message}`, { cause: error });
    }
    if (req.sub !== undefined && req.sub !== chain.subject) {
      throw new UsageError(`--sub ${req.sub} differs from the proof's subject ${chain.subject}`);
    }
    sub = chain.subject;
    const narrower = chain.links.find((l) => !commandProves(l.cmd, req.cmd));
    if (narrower) {
      throw new InvalidTokenError(`the proof grants ${narrower.cmd}, which does not cover ${req.cmd}`);
    }
    req.checkProof?.(chain);
    if (chain.expires !== null && (exp === null || exp > chain.expires)) {
      platform.process.stderr(
        `macula: the proof ${describeExpiry(chain.expires, now)}; the new link expires with it\n`,
      );
      exp = chain.expires;
    }
  } else if (req.sub !== undefined && req.sub !== signer.did) {
    throw new UsageError(`without --proof this key is the subject (${signer.did}); --sub names another`);
  }
  const link = delegate(signer, { aud: req.aud, sub, cmd: req.cmd, pol: req.pol, exp, nbf });
  const summary = `issued ${link.id}: ${req.cmd} from ${signer.did} to ${req.aud}, ${describeExpiry(exp, now)}${
    nbf === undefined ? "" : `, not before ${isoSeconds(nbf)}`
  }${proof.length ? ` (link ${proof.length + 1} of the chain)` : " (root)"}`;
  return { chain: [...proof, link], summary };
}

/** Write `issued`'s chain as container text to `out` (or stdout), then its summary to stderr. */
export async function writeChain(issued: IssuedChain, out: string | undefined, platform: Platform): Promise<void> {
  await writeOutput(encodeContainer(issued.chain.map((d) => d.bytes)), out, platform);
  platform.process.stderr(`macula: ${issued.summary}${out && out !== "-" ? ` → ${out}` : ""}\n`);
}

/** Run `macula ucan issue`. */
export async function ucanIssue(args: string[], platform: Platform): Promise<number> {
  const { values: f } = parseWithPositionals<{
    help?: boolean;
    "data-dir"?: string;
    aud?: string;
    cmd?: string;
    sub?: string;
    pol?: string;
    exp?: string;
    nbf?: string;
    proof?: string;
    out?: string;
  }>(args, {
    "data-dir": { type: "string" },
    aud: { type: "string" },
    cmd: { type: "string" },
    sub: { type: "string" },
    pol: { type: "string" },
    exp: { type: "string" },
    nbf: { type: "string" },
    proof: { type: "string" },
    out: { type: "string", short: "o" },
  }, 0);
  if (f.help) return platform.process.stdout(UCAN_HELP.issue + "\n"), 0;
  const req: LinkRequest = {
    aud: didFlag(f.aud, "--aud"),
    cmd: commandFlag(f.cmd),
    pol: policyFlag(f.pol),
    sub: f.sub === undefined ? undefined : didFlag(f.sub, "--sub"),
    exp: f.exp,
    nbf: f.nbf,
    proof: f.proof,
  };
  const signer = await dataDirSigner(dataDirOf(f["data-dir"], platform), platform);
  await writeChain(await issueLink(signer, req, platform), f.out, platform);
  return 0;
}

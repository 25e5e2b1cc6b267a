/**
 * `macula namespace delegate NS --to DID`: give DID a namespace — a
 * delegation of `/macula` (or `--cmd`) whose policy confines every
 * operation's name to NS and below. Without `--proof` the data dir key is the
 * root (a realm authority); with `--proof` (the issuer's own namespace chain)
 * NS must lie inside the proof's namespace.
 *
 * @module
 */
import { NamespaceError, namespacePolicy, validateNamespace } from "../../auth/namespace.ts";
import { MACULA_COMMAND } from "../../auth/commands.ts";
import type { Platform } from "../../platform/types.ts";
import type { Policy } from "../../ucan/mod.ts";
import { parseWithPositionals, UsageError } from "../args.ts";
import { UCAN_HELP } from "../help-ucan.ts";
import { dataDirOf, dataDirSigner, InvalidTokenError } from "./token-io.ts";
import { commandFlag, didFlag, issueLink, writeChain } from "./ucan-issue.ts";

/** Run `macula namespace …`. */
export async function namespace(args: string[], platform: Platform): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    return platform.process.stdout(UCAN_HELP.namespace + "\n"), 0;
  }
  if (sub !== "delegate") {
    throw new UsageError(`unknown command "namespace ${sub}"; run "macula namespace --help"`);
  }
  const { values: f, positionals } = parseWithPositionals<{
    help?: boolean;
    "data-dir"?: string;
    to?: string;
    cmd?: string;
    exp?: string;
    nbf?: string;
    proof?: string;
    out?: string;
  }>(rest, {
    "data-dir": { type: "string" },
    to: { type: "string" },
    cmd: { type: "string" },
    exp: { type: "string" },
    nbf: { type: "string" },
    proof: { type: "string" },
    out: { type: "string", short: "o" },
  }, 1);
  if (f.help) return platform.process.stdout(UCAN_HELP["namespace delegate"] + "\n"), 0;
  const [ns] = positionals;
  if (ns === undefined) throw new UsageError("missing NS; usage: macula namespace delegate NS --to DID");
  try {
    validateNamespace(ns);
  } catch (error) {
    if (error instanceof NamespaceError) throw new UsageError(error.message);
    throw error;
  }
  const aud = didFlag(f.to, "--to");
  const cmd = commandFlag(f.cmd ?? MACULA_COMMAND);
  const signer = await dataDirSigner(dataDirOf(f["data-dir"], platform), platform);
  const issued = await issueLink(signer, {
    aud,
    cmd,
    pol: namespacePolicy(ns) as Policy,
    exp: f.exp,
    nbf: f.nbf,
    proof: f.proof,
    checkProof(proof) {
      // The namespace itself and the names under it.
      const why = proof.explain(cmd, { realm: "", name: ns }) ?? proof.explain(cmd, { realm: "", name: `${ns}.x` });
      if (why !== undefined) {
        throw new InvalidTokenError(`namespace ${ns} is not inside the proof's: ${why}`);
      }
    },
  }, platform);
  await writeChain(issued, f.out, platform);
  return 0;
}

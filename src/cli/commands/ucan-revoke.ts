/**
 * `macula ucan revoke CID`: sign a revocation of the delegation CID with the
 * data dir key and hand it to the node running on this machine
 * (`POST /auth/revocations`), which stores and gossips it. With no node
 * running, it goes into the data dir's revocation store, and the node
 * shares it when it next starts. Prints the revocation's CID.
 *
 * A revocation takes effect only if its signer issued the revoked
 * delegation or a link above it in the chain.
 *
 * @module
 */
import { CID } from "npm:multiformats@14.0.5/cid";
import { FileRevocationStore } from "../../auth/revocation-store.ts";
import type { Platform } from "../../platform/types.ts";
import { encodeContainer, revoke } from "../../ucan/mod.ts";
import { parseWithPositionals, UsageError } from "../args.ts";
import { UCAN_HELP } from "../help-ucan.ts";
import { localNodeRequest, localNodeUrl, NoLocalNodeError } from "./local-node.ts";
import { dataDirOf, dataDirSigner } from "./token-io.ts";

/** A delegation CID argument, or a `UsageError`. */
function cidArgument(text: string | undefined): string {
  if (text === undefined) throw new UsageError("missing CID; usage: macula ucan revoke CID (see macula ucan inspect)");
  try {
    const cid = CID.parse(text.trim());
    if (cid.version !== 1) throw new Error("a UCAN CID is a CIDv1");
    return cid.toString();
  } catch (error) {
    throw new UsageError(`invalid CID ${JSON.stringify(text)}: ${(error as Error).message}`);
  }
}

/** Run `macula ucan revoke`. */
export async function ucanRevoke(args: string[], platform: Platform): Promise<number> {
  const { values: f, positionals } = parseWithPositionals<{
    help?: boolean;
    "data-dir"?: string;
    "health-port"?: string;
    "health-host"?: string;
    offline?: boolean;
  }>(args, {
    "data-dir": { type: "string" },
    "health-port": { type: "string" },
    "health-host": { type: "string" },
    offline: { type: "boolean" },
  }, 1);
  if (f.help) return platform.process.stdout(UCAN_HELP.revoke + "\n"), 0;
  const cid = cidArgument(positionals[0]);
  const dataDir = dataDirOf(f["data-dir"], platform);
  const signer = await dataDirSigner(dataDir, platform);
  const revocation = revoke(signer, cid);
  const err = (s: string) => platform.process.stderr(`macula: ${s}\n`);
  if (!f.offline) {
    const base = localNodeUrl(f, platform);
    try {
      await localNodeRequest(base, "/auth/revocations", {
        method: "POST",
        body: encodeContainer([revocation.bytes]),
        headers: { "content-type": "text/plain" },
      }, platform);
      err(`revoked ${cid}: the node at ${base} stored the revocation and gossips it through its realms`);
      platform.process.stdout(revocation.id + "\n");
      return 0;
    } catch (error) {
      if (!(error instanceof NoLocalNodeError)) throw error;
    }
  }
  const store = new FileRevocationStore(platform.fs, platform.fs.join(dataDir, "auth"));
  await store.open();
  await store.add(revocation.id, revocation.bytes);
  await store.close();
  err(`revoked ${cid}: no node running; stored in ${store.path}, shared when the node of ${dataDir} next starts`);
  platform.process.stdout(revocation.id + "\n");
  return 0;
}

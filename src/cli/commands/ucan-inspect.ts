/**
 * `macula ucan inspect TOKEN|FILE|-`: a chain link by link (issuer →
 * audience, subject, command, policy, time bounds, CIDs) and whether it is
 * valid, explained: signatures, linkage, time, and the revocations the
 * local data dir knows. Exit code 0 valid, 1 invalid; `--json` for machines.
 *
 * @module
 */
import { FileRevocationStore } from "../../auth/revocation-store.ts";
import type { Platform } from "../../platform/types.ts";
import {
  decodeContainer,
  decodeToken,
  Delegation,
  Invocation,
  parseChain,
  readRevocation,
  verifyChain,
} from "../../ucan/mod.ts";
import { parseWithPositionals, UsageError } from "../args.ts";
import { UCAN_HELP } from "../help-ucan.ts";
import { describeExpiry, describeNotBefore, isoSeconds } from "../time-flags.ts";
import { dataDirOf, nowSeconds, readTokenText } from "./token-io.ts";

/** A revocation the data dir knows: `revoker` revoked `cid`. */
interface KnownRevocation {
  cid: string;
  revoker: string;
}

/** The revocations stored in `<dataDir>/auth/revocations` (none if there is no such file). */
export async function knownRevocations(dataDir: string, platform: Platform): Promise<KnownRevocation[]> {
  const dir = platform.fs.join(dataDir, "auth");
  if (!(await platform.fs.stat(platform.fs.join(dir, "revocations")))) return [];
  const store = new FileRevocationStore(platform.fs, dir);
  await store.open();
  const out: KnownRevocation[] = [];
  for (const bytes of store.all()) {
    try {
      out.push(readRevocation(Invocation.decode(bytes)));
    } catch { /* a stored entry that no longer decodes: not a revocation we can apply */ }
  }
  await store.close();
  return out;
}

/** One link as JSON. */
function linkJson(d: Delegation, revokedBy: string | undefined) {
  return {
    cid: d.id,
    iss: d.iss,
    aud: d.aud,
    sub: d.sub,
    cmd: d.cmd,
    pol: d.pol,
    nbf: d.nbf ?? null,
    exp: d.exp,
    ...(d.meta ? { meta: d.meta } : {}),
    revokedBy: revokedBy ?? null,
  };
}

/** Who revoked link `i` (its issuer or the issuer of a link above it), if anyone. */
function revokerOf(links: readonly Delegation[], i: number, known: readonly KnownRevocation[]): string | undefined {
  const issuers = links.slice(0, i + 1).map((l) => l.iss);
  return known.find((r) => r.cid === links[i].id && issuers.includes(r.revoker))?.revoker;
}

function printChain(
  links: readonly Delegation[],
  known: readonly KnownRevocation[],
  now: number,
  out: (s: string) => void,
): void {
  out(`chain of ${links.length} delegation${links.length === 1 ? "" : "s"}, root first`);
  links.forEach((d, i) => {
    out(`\n[${i + 1}] ${d.id}`);
    out(`    ${d.iss}\n  → ${d.aud}`);
    out(`    sub  ${d.sub ?? "null (any subject)"}${i === 0 && d.sub === d.iss ? " (the issuer: a root)" : ""}`);
    out(`    cmd  ${d.cmd}`);
    out(`    pol  ${d.pol.length ? JSON.stringify(d.pol) : "[] (no condition)"}`);
    if (d.nbf !== undefined) out(`    nbf  ${describeNotBefore(d.nbf, now)}`);
    out(`    exp  ${describeExpiry(d.exp, now)}`);
    const by = revokerOf(links, i, known);
    if (by) out(`    REVOKED by ${by}`);
  });
}

function printInvocation(inv: Invocation, now: number, out: (s: string) => void): void {
  out(`invocation ${inv.id}`);
  out(`    iss  ${inv.iss}`);
  out(`    sub  ${inv.sub}`);
  out(`    cmd  ${inv.cmd}`);
  out(`    args ${JSON.stringify(inv.args, (_k, v) => (v instanceof Uint8Array ? `<${v.length} bytes>` : v))}`);
  out(`    exp  ${describeExpiry(inv.exp, now)}`);
  out(`    prf  ${inv.prf.length ? inv.prf.map(String).join(", ") : "none"}`);
  try {
    const r = readRevocation(inv);
    out(`    a revocation of ${r.cid} by ${r.revoker}`);
  } catch { /* not a revocation */ }
}

/** Run `macula ucan inspect`. */
export async function ucanInspect(args: string[], platform: Platform): Promise<number> {
  const { values: f, positionals } = parseWithPositionals<{ help?: boolean; json?: boolean; "data-dir"?: string }>(
    args,
    { json: { type: "boolean" }, "data-dir": { type: "string" } },
    1,
  );
  if (f.help) return platform.process.stdout(UCAN_HELP.inspect + "\n"), 0;
  const [arg] = positionals;
  if (arg === undefined) throw new UsageError("missing TOKEN; usage: macula ucan inspect TOKEN|FILE|-");
  const out = (s: string) => platform.process.stdout(s + "\n");
  const { text, name } = await readTokenText(arg, platform);
  const now = nowSeconds();
  const invalid = (reason: string, extra: Record<string, unknown> = {}) => {
    if (f.json) out(JSON.stringify({ valid: false, error: reason, ...extra }, null, 2));
    else out(`\nINVALID: ${reason}`);
    return 1;
  };
  let tokens: (Delegation | Invocation)[];
  try {
    tokens = decodeContainer(text).map((bytes, i) => {
      try {
        return decodeToken(bytes);
      } catch (error) {
        throw new Error(`token ${i + 1}: ${(error as Error).message}`);
      }
    });
  } catch (error) {
    return invalid(`${name} is not a valid token: ${(error as Error).message}`);
  }
  if (tokens.length === 1 && tokens[0] instanceof Invocation) {
    const inv = tokens[0];
    if (f.json) {
      out(JSON.stringify({ valid: true, invocation: { cid: inv.id, iss: inv.iss, sub: inv.sub, cmd: inv.cmd } }));
    } else {
      printInvocation(inv, now, out);
      out(`\nsignature valid (an invocation: its proofs are not checked here)`);
    }
    return 0;
  }
  if (tokens.some((t) => !(t instanceof Delegation))) {
    return invalid(`${name} mixes invocations and delegations: not a chain`);
  }
  // Containers sort their tokens: put the links in chain order (each audience the next issuer), as parseChain does.
  const links = parseChain(text);
  const dataDir = dataDirOf(f["data-dir"], platform);
  const known = await knownRevocations(dataDir, platform);
  if (!f.json) printChain(links, known, now, out);
  const audience = links[links.length - 1].aud;
  const linksJson = links.map((d, i) => linkJson(d, revokerOf(links, i, known)));
  try {
    const chain = verifyChain(links, {
      audience,
      now,
      isRevoked: (cid, issuers) => known.some((r) => r.cid === cid && issuers.includes(r.revoker)),
    });
    const summary = {
      valid: true,
      subject: chain.subject,
      audience: chain.audience,
      expires: chain.expires,
      notBefore: chain.notBefore,
      links: linksJson,
      revocationsKnown: known.length,
    };
    if (f.json) {
      out(JSON.stringify(summary, null, 2));
    } else {
      out(`\nVALID for ${chain.audience} (subject ${chain.subject})`);
      out(`  signatures  ok (${links.length})`);
      out(`  linkage     ok (each audience is the next issuer; every subject is the root's)`);
      out(`  time        ok now (${isoSeconds(now)}, ±60 s); the chain ${describeExpiry(chain.expires, now)}`);
      out(`  revocations none of its links among the ${known.length} known to ${dataDir}`);
      out(`  grants      what every link's cmd and pol allow together (the narrowest wins)`);
    }
    return 0;
  } catch (error) {
    const e = error as Error & { code?: string };
    return invalid(`${e.name}: ${e.message}`, { code: e.code, links: linksJson, revocationsKnown: known.length });
  }
}

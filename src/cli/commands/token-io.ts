/**
 * What the token commands share: the data dir key as a UCAN signer, tokens
 * read from a file, stdin or the command line, and output to stdout or a
 * file.
 *
 * @module
 */
import { loadOrCreateIdentity } from "../../identity/key-store.ts";
import type { Platform } from "../../platform/types.ts";
import { type Delegation, parseChain, signerFromKeyPair, type UcanSigner } from "../../ucan/mod.ts";
import { fromUtf8, utf8 } from "../../util/bytes.ts";
import { MaculaError } from "../../util/errors.ts";
import { UsageError } from "../args.ts";
import { readEnv, resolveStartConfig } from "../config.ts";

/** A token that cannot be used (exit code 1): not a token, a bad signature, a broken chain… */
export class InvalidTokenError extends MaculaError {
  /** `message` names the token (file) and the UCAN error. */
  constructor(message: string, options?: ErrorOptions) {
    super("E_INVALID_TOKEN", message, options);
  }
}

/** The data dir (`--data-dir`, `MACULA_DATA_DIR`, default `.macula`). */
export function dataDirOf(flag: string | undefined, platform: Platform): string {
  const env = readEnv((n) => n === "MACULA_DATA_DIR" ? platform.process.env(n) : undefined);
  return resolveStartConfig(env, { "data-dir": flag }).dataDir;
}

/** The data dir's key (created if absent, as `macula id` does) as a UCAN signer. */
export async function dataDirSigner(dataDir: string, platform: Platform): Promise<UcanSigner> {
  const { keyPair } = await loadOrCreateIdentity(platform.fs, dataDir);
  return signerFromKeyPair(keyPair);
}

const TOKEN_TEXT = /^[A-Za-z0-9_=+/-]+$/;
/** Largest token file read, bytes. */
const MAX_TOKEN_FILE = 1024 * 1024;

/**
 * The text of a token: `-` reads stdin, a path reads the file, and text that
 * looks like a token (base64url) is taken as is. Returns the text and a name
 * for messages.
 */
export async function readTokenText(arg: string, platform: Platform): Promise<{ text: string; name: string }> {
  if (arg === "-") return { text: await readStdin(platform), name: "stdin" };
  const trimmed = arg.trim();
  const tokenLike = trimmed.length >= 32 && TOKEN_TEXT.test(trimmed);
  // Longer than any file name: the token itself.
  if (tokenLike && trimmed.length > 255) return { text: trimmed, name: "the token given" };
  let bytes: Uint8Array | null = null;
  try {
    const info = await platform.fs.stat(arg);
    if (info?.isDirectory) throw new UsageError(`${arg} is a directory, not a token file`);
    if (info) {
      if (info.size > MAX_TOKEN_FILE) throw new InvalidTokenError(`${arg} is too large for a token file`);
      bytes = await platform.fs.readFile(arg);
    }
  } catch (error) {
    if (error instanceof MaculaError) throw error;
    if (platform.permissionDenied(error)) {
      throw new MaculaError(
        "E_PERMISSION",
        `cannot read ${arg}: outside the paths macula may read (.macula, /var/lib/macula); pipe it instead: … - < ${arg}`,
      );
    }
    if (!tokenLike) throw new UsageError(`cannot read ${arg}: ${(error as Error).message.split("\n")[0]}`);
  }
  if (bytes !== null) return { text: fromUtf8(bytes), name: arg };
  if (tokenLike) return { text: trimmed, name: "the token given" };
  throw new UsageError(`${arg}: no such file, and not a token either`);
}

async function readStdin(platform: Platform): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of platform.process.stdin()) {
    size += chunk.length;
    if (size > MAX_TOKEN_FILE) throw new InvalidTokenError("stdin is too large for a token");
    chunks.push(chunk);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) all.set(c, (at += c.length) - c.length);
  return fromUtf8(all);
}

/** A proof chain (`--proof FILE`): the delegations of a container, root first. */
export async function readProof(arg: string, platform: Platform): Promise<Delegation[]> {
  const { text, name } = await readTokenText(arg, platform);
  try {
    return parseChain(text);
  } catch (error) {
    throw new InvalidTokenError(`invalid --proof ${name}: ${(error as Error).message}`, { cause: error });
  }
}

/** Write `text` (plus a newline) to `out` (atomically, mode 0600) or to stdout. */
export async function writeOutput(text: string, out: string | undefined, platform: Platform): Promise<void> {
  if (out === undefined || out === "-") return platform.process.stdout(text + "\n");
  try {
    const slash = out.lastIndexOf("/");
    if (slash > 0) await platform.fs.mkdir(out.slice(0, slash), 0o700); // e.g. DATA-DIR/ucan/
    await platform.fs.writeFileAtomic(out, utf8(text + "\n"), 0o600);
  } catch (error) {
    if (platform.permissionDenied(error)) {
      throw new MaculaError(
        "E_PERMISSION",
        `cannot write ${out}: outside the paths macula may write (.macula, /var/lib/macula); use stdout: … > ${out}`,
      );
    }
    throw new MaculaError("E_WRITE", `cannot write ${out}: ${(error as Error).message.split("\n")[0]}`);
  }
}

/** Seconds since the epoch, now. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * Both sides of `/macula/auth/1` (see `messages.ts`): serving this node's
 * chains, the chains it verified for others, and its revocations; and
 * asking a peer for them. What comes back is bytes: the caller decodes and
 * verifies every token itself before use.
 *
 * @module
 */
import type { NodeId } from "../identity/node-id.ts";
import type { Logger } from "../log/logger.ts";
import { type Dialer, type Handler, RequestChannel, serveRequests } from "../node/request-channel.ts";
import {
  AUTH_PROTOCOL,
  type AuthRequest,
  encodeAuthRequest,
  encodeProofsReply,
  encodeRevocationsReply,
  MAX_AUTH_FRAME,
  MAX_CHAIN_LINKS,
  MAX_CHAINS,
  MAX_REVOCATIONS_PER_REPLY,
  type ProofsReply,
  type RevocationsReply,
  validateAuthRequest,
  validateProofsReply,
  validateRevocationsReply,
} from "./messages.ts";

/** Bytes of revocations put in one reply, at most (the frame limit with room to spare). */
const REPLY_BUDGET = MAX_AUTH_FRAME / 2;

/** What a node serves over `/macula/auth/1`. */
export interface ProofSource {
  /** The chains this node holds, each its encoded delegations root first. */
  ownChains(): readonly (readonly Uint8Array[])[];
  /** The chains this node verified for `subject` and still caches. */
  chainsOf(subject: NodeId): readonly (readonly Uint8Array[])[];
  /** The stored revocations, oldest first. */
  revocations(): readonly Uint8Array[];
}

/** The reply to `request` from `source` (as served), for `from`. */
export function answerAuthRequest(source: ProofSource, request: AuthRequest): Record<string, unknown> {
  if (request.t === "proofs") {
    const chains = request.subject ? source.chainsOf(request.subject) : source.ownChains();
    const fit = chains.filter((c) => c.length > 0 && c.length <= MAX_CHAIN_LINKS).slice(-MAX_CHAINS);
    return encodeProofsReply({ chains: fit.map((c) => [...c]) });
  }
  const all = source.revocations();
  const out: Uint8Array[] = [];
  let size = 0;
  let i = request.offset;
  for (; i < all.length && out.length < MAX_REVOCATIONS_PER_REPLY; i++) {
    if (out.length > 0 && size + all[i].length > REPLY_BUDGET) break;
    out.push(all[i]);
    size += all[i].length;
  }
  return encodeRevocationsReply(i < all.length ? { revocations: out, next: i } : { revocations: out });
}

/**
 * Serve `/macula/auth/1` on `host` from `source`; returns the function that
 * stops serving.
 *
 * @example
 * ```ts
 * import { serveAuth } from "./exchange.ts";
 * declare const host: import("../node/request-channel.ts").Handler;
 * const off = serveAuth(host, { ownChains: () => [], chainsOf: () => [], revocations: () => [] });
 * off();
 * ```
 */
export function serveAuth(host: Handler, source: ProofSource): () => void {
  return serveRequests(
    host,
    AUTH_PROTOCOL,
    validateAuthRequest,
    (_from, request) => answerAuthRequest(source, request),
    {
      maxFrame: MAX_AUTH_FRAME,
      maxConcurrent: 8,
    },
  );
}

/**
 * The asking side.
 *
 * @example
 * ```ts
 * import { AuthClient } from "./exchange.ts";
 * declare const host: import("../node/request-channel.ts").Dialer;
 * declare const peer: import("../identity/node-id.ts").NodeId;
 * const client = new AuthClient(host);
 * const { chains } = await client.proofs(peer);
 * ```
 */
export class AuthClient {
  readonly #proofs: RequestChannel<ProofsReply>;
  readonly #revocations: RequestChannel<RevocationsReply>;

  /** A client that connects through `host`. */
  constructor(host: Dialer) {
    this.#proofs = new RequestChannel(host, AUTH_PROTOCOL, validateProofsReply, { maxFrame: MAX_AUTH_FRAME });
    this.#revocations = new RequestChannel(host, AUTH_PROTOCOL, validateRevocationsReply, { maxFrame: MAX_AUTH_FRAME });
  }

  /** `peer`'s own chains, or (with `subject`) those it cached for `subject`. */
  async proofs(peer: NodeId, options: { subject?: NodeId; timeout?: number; signal?: AbortSignal } = {}): Promise<
    ProofsReply
  > {
    const body = encodeAuthRequest({ t: "proofs", subject: options.subject });
    return await this.#proofs.request(peer, body, { timeout: options.timeout ?? 5_000, signal: options.signal });
  }

  /** Every revocation `peer` stores (asked page by page, at most `maxPages`). */
  async revocations(peer: NodeId, options: { timeout?: number; maxPages?: number } = {}): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    let offset = 0;
    for (let page = 0; page < (options.maxPages ?? 64); page++) {
      const body = encodeAuthRequest({ t: "revocations", offset });
      const reply = await this.#revocations.request(peer, body, { timeout: options.timeout ?? 5_000 });
      out.push(...reply.revocations);
      if (reply.next === undefined || reply.next <= offset) break;
      offset = reply.next;
    }
    return out;
  }
}

/**
 * Anti-entropy: take every revocation `peer` stores through `accept` (which
 * checks each and skips known ones). Failures are logged, never thrown.
 */
export async function catchUp(
  client: AuthClient,
  peer: NodeId,
  accept: (bytes: Uint8Array) => Promise<unknown>,
  log?: Logger,
): Promise<void> {
  let all: Uint8Array[];
  try {
    all = await client.revocations(peer);
  } catch (error) {
    log?.debug("revocation catch-up failed", { peer: peer.short, error: (error as Error).message });
    return;
  }
  for (const bytes of all) {
    await accept(bytes).catch((error) =>
      log?.debug("a peer's revocation does not check out", { peer: peer.short, error: (error as Error).message })
    );
  }
}

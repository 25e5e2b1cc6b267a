/**
 * An encrypted, mutually authenticated channel over a raw byte duplex (a
 * TCP connection): a `Noise_XX_25519_ChaChaPoly_SHA256` handshake whose
 * static keys are bound to the nodes' Ed25519 identities.
 *
 * Wire format: every Noise message, handshake or transport, is prefixed by
 * its length as 2 bytes big-endian (at most 65535). The prologue is the
 * ASCII string `macula/noise/1`.
 *
 * ```
 * -> e                                      payload: empty
 * <- e, ee, s, es                           payload: identity of the responder
 * -> s, se                                  payload: identity of the initiator
 * ```
 *
 * An identity payload is the CBOR map `{ id, sig }`: the 32-byte Ed25519
 * public key and its 64-byte signature over
 * `utf8("macula-noise-static/1") || <sender's X25519 static public key>`.
 * Noise proves the peer holds that static key; the signature proves the
 * Ed25519 identity vouches for it. A fresh static key is used per channel.
 *
 * This module is the public entry point: it bounds the handshake in time and
 * reports its failures uniformly. The parts live under `secure-channel/`:
 * the handshake driver (`handshake.ts`), the identity payload
 * (`identity-payload.ts`) and the transport phase (`noise-channel.ts`).
 *
 * @module
 */
import type { KeyPair } from "../identity/ed25519.ts";
import type { NodeId } from "../identity/node-id.ts";
import { TimeoutError, withDeadline } from "../util/async.ts";
import { HandshakeError, PeerIdMismatchError } from "./errors.ts";
import { NOISE_PROLOGUE, runHandshake } from "./secure-channel/handshake.ts";
import { decodeIdentityPayload, STATIC_KEY_SIGNATURE_CONTEXT } from "./secure-channel/identity-payload.ts";
import {
  closeQuietly,
  MAX_PLAINTEXT_LENGTH,
  type RawDuplex,
  type SecureChannel,
} from "./secure-channel/noise-channel.ts";

export { decodeIdentityPayload, MAX_PLAINTEXT_LENGTH, NOISE_PROLOGUE, STATIC_KEY_SIGNATURE_CONTEXT };
export type { RawDuplex, SecureChannel };

/** Default time allowed for the whole handshake, ms. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** Options of `secureInitiator`. */
export interface SecureInitiatorOptions {
  /** Fail with `PeerIdMismatchError` unless the peer proves this identity. */
  expectedRemoteId?: NodeId;
  /** Time allowed for the handshake, ms. Default 10 000. */
  timeoutMs?: number;
}

/** Options of `secureResponder`. */
export interface SecureResponderOptions {
  /** Time allowed for the handshake, ms. Default 10 000. */
  timeoutMs?: number;
}

/**
 * Run the XX handshake as the dialing side and return the encrypted channel.
 * The responder's identity is checked before ours is revealed.
 *
 * Rejects with `HandshakeError` (bad signature, malformed or tampered
 * message — `cause` is the `WireError` —, peer hung up, timeout) or
 * `PeerIdMismatchError`; `raw` is then closed.
 *
 * @example
 * ```ts
 * import { KeyPair } from "../identity/ed25519.ts";
 * import { NodeId } from "../identity/node-id.ts";
 * import { type RawDuplex, secureInitiator } from "./secure-channel.ts";
 * declare const tcp: RawDuplex;
 * declare const peer: NodeId;
 * const channel = await secureInitiator(tcp, KeyPair.generate(), { expectedRemoteId: peer });
 * await channel.write(new TextEncoder().encode("hello"));
 * const reply = await channel.read(); // Uint8Array, or null at EOF
 * ```
 */
export function secureInitiator(
  raw: RawDuplex,
  identity: KeyPair,
  opts: SecureInitiatorOptions = {},
): Promise<SecureChannel> {
  return guarded(
    raw,
    opts.timeoutMs,
    () => runHandshake(raw, identity, true, opts.expectedRemoteId),
  );
}

/**
 * Run the XX handshake as the accepting side and return the encrypted
 * channel. Errors as for `secureInitiator` (without the id check).
 *
 * @example
 * ```ts
 * import { KeyPair } from "../identity/ed25519.ts";
 * import { type RawDuplex, secureResponder } from "./secure-channel.ts";
 * declare const tcp: RawDuplex;
 * const channel = await secureResponder(tcp, KeyPair.generate());
 * console.log(`connection from ${channel.remoteId.did}`);
 * ```
 */
export function secureResponder(
  raw: RawDuplex,
  identity: KeyPair,
  opts: SecureResponderOptions = {},
): Promise<SecureChannel> {
  return guarded(
    raw,
    opts.timeoutMs,
    () => runHandshake(raw, identity, false, undefined),
  );
}

async function guarded(
  raw: RawDuplex,
  timeoutMs: number | undefined,
  run: () => Promise<SecureChannel>,
): Promise<SecureChannel> {
  const ms = timeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  if (!(ms > 0) || !Number.isFinite(ms)) {
    throw new RangeError(
      `handshake timeout must be a positive number of ms, got ${ms}`,
    );
  }
  try {
    return await withDeadline(run(), ms, "noise handshake", {
      onLate: (channel) => channel.close(),
    });
  } catch (error) {
    closeQuietly(raw);
    throw asHandshakeError(error);
  }
}

function asHandshakeError(error: unknown): Error {
  if (error instanceof HandshakeError || error instanceof PeerIdMismatchError) {
    return error;
  }
  if (error instanceof TimeoutError) {
    return new HandshakeError(error.message, { cause: error });
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new HandshakeError(`noise handshake failed: ${detail}`, {
    cause: error,
  });
}

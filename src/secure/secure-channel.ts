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
 * @module
 */
import type { KeyPair } from "../identity/ed25519.ts";
import { verify } from "../identity/ed25519.ts";
import { NodeId } from "../identity/node-id.ts";
import { TimeoutError, withDeadline } from "../util/async.ts";
import { concat, utf8 } from "../util/bytes.ts";
import { encodeCbor } from "../wire/cbor.ts";
import { WireError } from "../wire/errors.ts";
import type { Duplex } from "../wire/frame.ts";
import { BufferedReader } from "../wire/frame.ts";
import { bytes, messageDecoder, object } from "../wire/schema.ts";
import { ConnectionClosedError, HandshakeError, PeerIdMismatchError } from "../transport/errors.ts";
import { type CipherState, MAX_MESSAGE_LENGTH, NoiseError, TAG_LENGTH, XXHandshake } from "./noise.ts";

/** The Noise prologue every Macula channel commits to. */
export const NOISE_PROLOGUE: Uint8Array = utf8("macula/noise/1");
/** Domain separation prefix of the signature over the Noise static key. */
export const STATIC_KEY_SIGNATURE_CONTEXT: Uint8Array = utf8(
  "macula-noise-static/1",
);
/** Largest plaintext carried by one transport message (65535 - 16). */
export const MAX_PLAINTEXT_LENGTH = MAX_MESSAGE_LENGTH - TAG_LENGTH;
/** Default time allowed for the whole handshake, ms. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

const TRANSPORT = "noise transport";
const EMPTY = new Uint8Array(0);

/** A raw, unencrypted byte duplex such as a TCP connection. */
export type RawDuplex = Duplex;

/**
 * An encrypted channel to a peer whose Ed25519 identity was proven during
 * the handshake.
 *
 * - `read()` resolves with the next decrypted chunk, or `null` at a clean end
 *   of stream (or after `close()`). A tampered, truncated or malformed
 *   message rejects with `WireError` and closes the channel: every later
 *   `read()`/`write()` rejects with the same error.
 * - `write()` encrypts and sends, splitting into messages of at most
 *   65519 plaintext bytes; concurrent writes are sent in call order.
 * - `close()` closes the underlying duplex.
 */
export interface SecureChannel {
  /** Proven Ed25519 identity of the peer. */
  readonly remoteId: NodeId;
  /** Final Noise handshake hash, identical on both sides (for channel binding). */
  readonly handshakeHash: Uint8Array;
  /** Next decrypted plaintext chunk; `null` on clean EOF. */
  read(): Promise<Uint8Array | null>;
  /** Encrypt and send `chunk`. */
  write(chunk: Uint8Array): Promise<void>;
  /** Close the channel and the underlying duplex. */
  close(): void;
}

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

/** Decodes the identity payload of Noise handshake messages 2 and 3. */
export const decodeIdentityPayload = messageDecoder(
  "noise identity payload",
  object({ id: bytes({ length: 32 }), sig: bytes({ length: 64 }) }),
);

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
    () => handshake(raw, identity, true, opts.expectedRemoteId),
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
    () => handshake(raw, identity, false, undefined),
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

function closeQuietly(raw: RawDuplex): void {
  try {
    raw.close();
  } catch {
    // already closed
  }
}

async function handshake(
  raw: RawDuplex,
  identity: KeyPair,
  initiator: boolean,
  expectedRemoteId: NodeId | undefined,
): Promise<SecureChannel> {
  const reader = new BufferedReader(raw);
  const hs = new XXHandshake({ initiator, prologue: NOISE_PROLOGUE });
  const ownPayload = encodeCbor({
    id: identity.publicKey,
    sig: identity.sign(
      concat(STATIC_KEY_SIGNATURE_CONTEXT, hs.localStaticKey),
    ),
  });
  let remoteId: NodeId;
  if (initiator) {
    await raw.write(frame(hs.writeMessage()));
    const payload = hs.readMessage(await readHandshakeMessage(reader, 2));
    remoteId = authenticate(payload, hs.remoteStaticKey!);
    if (expectedRemoteId && !expectedRemoteId.equals(remoteId)) {
      throw new PeerIdMismatchError(
        `dialed ${expectedRemoteId.did} but the peer proved ${remoteId.did}`,
      );
    }
    await raw.write(frame(hs.writeMessage(ownPayload)));
  } else {
    const first = hs.readMessage(await readHandshakeMessage(reader, 1));
    if (first.length !== 0) {
      throw new WireError(
        "E_WIRE_INVALID",
        "noise handshake message 1",
        `payload must be empty, got ${first.length} bytes`,
      );
    }
    await raw.write(frame(hs.writeMessage(ownPayload)));
    const payload = hs.readMessage(await readHandshakeMessage(reader, 3));
    remoteId = authenticate(payload, hs.remoteStaticKey!);
  }
  const { send, receive, handshakeHash } = hs.split();
  return new NoiseChannel(raw, reader, send, receive, remoteId, handshakeHash);
}

/** Check the peer's identity payload against the static key Noise proved. */
function authenticate(payload: Uint8Array, remoteStatic: Uint8Array): NodeId {
  const { id, sig } = decodeIdentityPayload(payload);
  if (!verify(id, concat(STATIC_KEY_SIGNATURE_CONTEXT, remoteStatic), sig)) {
    throw new HandshakeError(
      "peer's identity signature does not cover its Noise static key",
    );
  }
  return new NodeId(id);
}

/** `[length: u16 BE][message]` in one buffer. */
function frame(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + message.length);
  out[0] = message.length >>> 8;
  out[1] = message.length & 0xff;
  out.set(message, 2);
  return out;
}

async function readHandshakeMessage(
  reader: BufferedReader,
  n: number,
): Promise<Uint8Array> {
  const type = `noise handshake message ${n}`;
  const header = await reader.readExact(2, type);
  if (header === null) {
    throw new HandshakeError(
      `peer closed the connection before handshake message ${n}`,
    );
  }
  const length = (header[0] << 8) | header[1];
  const body = await reader.readExact(length, type);
  if (body === null) {
    throw new WireError(
      "E_WIRE_TRUNCATED",
      type,
      `stream ended before the ${length}-byte message`,
    );
  }
  return body;
}

/** The transport phase: length-prefixed ChaCha20-Poly1305 messages. */
class NoiseChannel implements SecureChannel {
  readonly remoteId: NodeId;
  readonly handshakeHash: Uint8Array;
  readonly #raw: RawDuplex;
  readonly #reader: BufferedReader;
  readonly #send: CipherState;
  readonly #receive: CipherState;
  #failure: Error | null = null;
  #closed = false;
  #reading = false;
  #writeTail: Promise<void> = Promise.resolve();

  constructor(
    raw: RawDuplex,
    reader: BufferedReader,
    send: CipherState,
    receive: CipherState,
    remoteId: NodeId,
    handshakeHash: Uint8Array,
  ) {
    this.#raw = raw;
    this.#reader = reader;
    this.#send = send;
    this.#receive = receive;
    this.remoteId = remoteId;
    this.handshakeHash = handshakeHash;
  }

  async read(): Promise<Uint8Array | null> {
    if (this.#reading) {
      throw new Error("concurrent read() on one secure channel");
    }
    this.#reading = true;
    try {
      for (;;) {
        if (this.#failure) throw this.#failure;
        if (this.#closed) return null;
        const plaintext = await this.#readMessage();
        // Empty messages carry nothing for a byte stream; skip them.
        if (plaintext === null || plaintext.length > 0) return plaintext;
      }
    } finally {
      this.#reading = false;
    }
  }

  async #readMessage(): Promise<Uint8Array | null> {
    try {
      const header = await this.#reader.readExact(2, TRANSPORT);
      if (header === null) return null;
      const length = (header[0] << 8) | header[1];
      if (length < TAG_LENGTH) {
        throw new WireError(
          "E_WIRE_MALFORMED",
          TRANSPORT,
          `message of ${length} bytes is shorter than its ${TAG_LENGTH}-byte tag`,
        );
      }
      const body = await this.#reader.readExact(length, TRANSPORT);
      if (body === null) {
        throw new WireError(
          "E_WIRE_TRUNCATED",
          TRANSPORT,
          `stream ended before a ${length}-byte message`,
        );
      }
      try {
        return this.#receive.decryptWithAd(EMPTY, body);
      } catch (error) {
        if (error instanceof NoiseError && error.code === "E_NOISE_DECRYPT") {
          throw new WireError(
            "E_WIRE_MALFORMED",
            TRANSPORT,
            "authentication failed (tampered, reordered or replayed message)",
            { cause: error },
          );
        }
        throw error;
      }
    } catch (error) {
      if (this.#closed && this.#failure === null) return null;
      throw this.#fail(error);
    }
  }

  write(chunk: Uint8Array): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#closed) {
      return Promise.reject(
        new ConnectionClosedError("secure channel is closed"),
      );
    }
    if (chunk.length === 0) return Promise.resolve();
    const done = this.#writeTail.then(() => this.#writeMessages(chunk));
    this.#writeTail = done.catch(() => {});
    return done;
  }

  async #writeMessages(chunk: Uint8Array): Promise<void> {
    for (
      let offset = 0;
      offset < chunk.length;
      offset += MAX_PLAINTEXT_LENGTH
    ) {
      if (this.#failure) throw this.#failure;
      if (this.#closed) {
        throw new ConnectionClosedError(
          "secure channel is closed",
        );
      }
      const end = Math.min(offset + MAX_PLAINTEXT_LENGTH, chunk.length);
      const length = end - offset + TAG_LENGTH;
      const message = new Uint8Array(2 + length);
      message[0] = length >>> 8;
      message[1] = length & 0xff;
      this.#send.encryptInto(chunk.subarray(offset, end), message, 2);
      try {
        await this.#raw.write(message);
      } catch (error) {
        if (this.#closed && this.#failure === null) {
          throw new ConnectionClosedError("secure channel is closed");
        }
        throw this.#fail(error);
      }
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeQuietly(this.#raw);
  }

  #fail(error: unknown): Error {
    if (this.#failure === null) {
      this.#failure = error instanceof Error ? error : new Error(String(error));
      closeQuietly(this.#raw);
    }
    return this.#failure;
  }
}

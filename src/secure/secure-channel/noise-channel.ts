/**
 * The transport phase of a secure channel: after the handshake, every
 * message is a 2-byte big-endian length followed by a ChaCha20-Poly1305
 * ciphertext and tag, carrying at most 65519 plaintext bytes.
 *
 * @module
 */
import type { NodeId } from "../../identity/node-id.ts";
import { WireError } from "../../wire/errors.ts";
import type { Duplex } from "../../wire/frame.ts";
import type { BufferedReader } from "../../wire/frame.ts";
import { ConnectionClosedError } from "../errors.ts";
import { type CipherState, MAX_MESSAGE_LENGTH, NoiseError, TAG_LENGTH } from "../noise.ts";

/** Largest plaintext carried by one transport message (65535 - 16). */
export const MAX_PLAINTEXT_LENGTH = MAX_MESSAGE_LENGTH - TAG_LENGTH;

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

/** Close `raw`, ignoring the error of a duplex that is already closed. */
export function closeQuietly(raw: RawDuplex): void {
  try {
    raw.close();
  } catch {
    // already closed
  }
}

/**
 * The transport phase: length-prefixed ChaCha20-Poly1305 messages over
 * `raw`, using the cipher states of a completed handshake. `reader` is the
 * reader the handshake used on `raw` (it may hold bytes already received).
 *
 * @example
 * ```ts
 * import type { NodeId } from "../../identity/node-id.ts";
 * import type { BufferedReader } from "../../wire/frame.ts";
 * import type { XXHandshake } from "../noise.ts";
 * import { NoiseChannel, type RawDuplex } from "./noise-channel.ts";
 * declare const raw: RawDuplex;
 * declare const reader: BufferedReader; // the handshake's reader over `raw`
 * declare const hs: XXHandshake; // completed
 * declare const remoteId: NodeId;
 * const { send, receive, handshakeHash } = hs.split();
 * const channel = new NoiseChannel(raw, reader, send, receive, remoteId, handshakeHash);
 * await channel.write(new TextEncoder().encode("hello"));
 * ```
 */
export class NoiseChannel implements SecureChannel {
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

  /** Wrap `raw` (read through `reader`) with the transport cipher states of a completed handshake. */
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

  /** Next decrypted plaintext chunk; `null` on clean EOF or after `close()`. */
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

  /** Encrypt and send `chunk`, in messages of at most 65519 plaintext bytes, after earlier writes. */
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

  /** Close the channel and the underlying duplex. Idempotent. */
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

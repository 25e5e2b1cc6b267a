/**
 * `XXHandshake`: the handshake state of the Noise XX pattern (spec §5.3,
 * §7.5), which turns three messages into two transport `CipherState`s.
 *
 * @module
 */
import { concat } from "../../util/bytes.ts";
import { WireError } from "../../wire/errors.ts";
import type { CipherState } from "./cipher-state.ts";
import { DH_LENGTH, MAX_MESSAGE_LENGTH, PROTOCOL_NAME, TAG_LENGTH } from "./constants.ts";
import { NoiseError } from "./errors.ts";
import { SymmetricState } from "./symmetric-state.ts";
import { X25519KeyPair } from "./x25519.ts";

const EMPTY = new Uint8Array(0);

type Token = "e" | "s" | "ee" | "es" | "se";

const XX_PATTERN: readonly (readonly Token[])[] = [
  ["e"],
  ["e", "ee", "s", "es"],
  ["s", "se"],
];
/** Bytes each XX message carries besides its payload (keys and tags). */
const XX_OVERHEAD = [
  DH_LENGTH,
  DH_LENGTH + DH_LENGTH + TAG_LENGTH + TAG_LENGTH,
  DH_LENGTH + TAG_LENGTH + TAG_LENGTH,
];

/** Options of `XXHandshake`. */
export interface XXHandshakeOptions {
  /** True for the party that sends the first message. */
  initiator: boolean;
  /** Data both parties must agree on (mixed into the handshake hash). Default empty. */
  prologue?: Uint8Array;
  /** Our static key pair `s`. Default: a fresh one. */
  staticKeyPair?: X25519KeyPair;
  /** Our ephemeral key pair `e`, for test vectors only. Default: a fresh one. */
  ephemeralKeyPair?: X25519KeyPair;
}

/** What a completed handshake yields. */
export interface XXHandshakeResult {
  /** Encrypts what we send. */
  send: CipherState;
  /** Decrypts what we receive. */
  receive: CipherState;
  /** The final handshake hash `h`: identical on both sides; usable for channel binding. */
  handshakeHash: Uint8Array;
  /** The peer's static X25519 public key, proven by the handshake. */
  remoteStaticKey: Uint8Array;
}

/**
 * The handshake state of `Noise_XX_25519_ChaChaPoly_SHA256` (spec §5.3).
 * Each side calls `writeMessage`/`readMessage` in turn (the initiator
 * writes messages 1 and 3, the responder message 2), then `split()`.
 * After any error the handshake is dead: further calls throw `NoiseError`.
 *
 * @example
 * ```ts
 * import { XXHandshake } from "./handshake.ts";
 * const alice = new XXHandshake({ initiator: true });
 * const bob = new XXHandshake({ initiator: false });
 * bob.readMessage(alice.writeMessage());
 * alice.readMessage(bob.writeMessage(new TextEncoder().encode("bob's payload")));
 * bob.readMessage(alice.writeMessage(new TextEncoder().encode("alice's payload")));
 * const a = alice.split();
 * const b = bob.split();
 * const sealed = a.send.encryptWithAd(new Uint8Array(0), new Uint8Array([1, 2, 3]));
 * b.receive.decryptWithAd(new Uint8Array(0), sealed); // [1, 2, 3]
 * ```
 */
export class XXHandshake {
  /** True for the party that sends the first message. */
  readonly initiator: boolean;
  readonly #ss: SymmetricState = new SymmetricState(PROTOCOL_NAME);
  readonly #s: X25519KeyPair;
  #e: X25519KeyPair | null;
  #re: Uint8Array | null = null;
  #rs: Uint8Array | null = null;
  #next = 0;
  #failed = false;
  #split = false;

  /** Start a handshake: mixes the prologue into the handshake hash. */
  constructor(options: XXHandshakeOptions) {
    this.initiator = options.initiator;
    this.#s = options.staticKeyPair ?? X25519KeyPair.generate();
    this.#e = options.ephemeralKeyPair ?? null;
    this.#ss.mixHash(options.prologue ?? EMPTY);
  }

  /** Our static public key. */
  get localStaticKey(): Uint8Array {
    return this.#s.publicKey;
  }

  /** The peer's static public key, once a message carrying it was read; else `null`. */
  get remoteStaticKey(): Uint8Array | null {
    return this.#rs;
  }

  /** A copy of the current handshake hash. */
  get handshakeHash(): Uint8Array {
    return this.#ss.handshakeHash;
  }

  /** True once all three messages were written or read. */
  get isComplete(): boolean {
    return this.#next === XX_PATTERN.length && !this.#failed;
  }

  /** True if the next step is ours to write (and the handshake is still running). */
  get isMyTurn(): boolean {
    return !this.#failed && this.#next < XX_PATTERN.length &&
      (this.#next % 2 === 0) === this.initiator;
  }

  /**
   * Produce the next handshake message carrying `payload` (encrypted in
   * messages 2 and 3, plaintext in message 1).
   */
  writeMessage(payload: Uint8Array = EMPTY): Uint8Array {
    this.#checkTurn(true);
    const index = this.#next;
    const size = XX_OVERHEAD[index] + payload.length;
    if (size > MAX_MESSAGE_LENGTH) {
      throw new NoiseError(
        "E_NOISE_OVERSIZED",
        `handshake message ${index + 1} would be ${size} bytes (max ${MAX_MESSAGE_LENGTH})`,
      );
    }
    try {
      const parts: Uint8Array[] = [];
      for (const token of XX_PATTERN[index]) {
        switch (token) {
          case "e":
            this.#e ??= X25519KeyPair.generate();
            parts.push(this.#e.publicKey);
            this.#ss.mixHash(this.#e.publicKey);
            break;
          case "s":
            parts.push(this.#ss.encryptAndHash(this.#s.publicKey));
            break;
          default:
            this.#mixDh(token);
        }
      }
      parts.push(this.#ss.encryptAndHash(payload));
      this.#next++;
      return concat(...parts);
    } catch (error) {
      this.#failed = true;
      throw error;
    }
  }

  /**
   * Consume the peer's next handshake message and return its payload.
   * Throws `WireError` if the message is truncated, oversized, fails
   * authentication or carries a low-order key.
   */
  readMessage(message: Uint8Array): Uint8Array {
    this.#checkTurn(false);
    const index = this.#next;
    const type = `noise handshake message ${index + 1}`;
    try {
      if (message.length > MAX_MESSAGE_LENGTH) {
        throw new WireError(
          "E_WIRE_OVERSIZED",
          type,
          `${message.length} bytes exceeds the ${MAX_MESSAGE_LENGTH}-byte limit`,
        );
      }
      if (message.length < XX_OVERHEAD[index]) {
        throw new WireError(
          "E_WIRE_TRUNCATED",
          type,
          `${message.length} bytes, at least ${XX_OVERHEAD[index]} expected`,
        );
      }
      let offset = 0;
      for (const token of XX_PATTERN[index]) {
        switch (token) {
          case "e":
            this.#re = message.slice(offset, offset + DH_LENGTH);
            offset += DH_LENGTH;
            this.#ss.mixHash(this.#re);
            break;
          case "s": {
            const length = DH_LENGTH +
              (this.#ss.cipher.hasKey() ? TAG_LENGTH : 0);
            const rs = this.#decrypt(
              message.subarray(offset, offset + length),
              type,
            );
            offset += length;
            this.#rs = rs;
            break;
          }
          default:
            this.#mixDh(token);
        }
      }
      const payload = this.#decrypt(message.subarray(offset), type);
      this.#next++;
      return payload;
    } catch (error) {
      this.#failed = true;
      this.#rs = null;
      throw error;
    }
  }

  /**
   * After the third message: the transport cipher states, the final
   * handshake hash and the peer's proven static key. Callable once.
   */
  split(): XXHandshakeResult {
    if (!this.isComplete) {
      throw new NoiseError("E_NOISE_STATE", "handshake is not complete");
    }
    if (this.#split) {
      throw new NoiseError("E_NOISE_STATE", "split() was already called");
    }
    this.#split = true;
    const [c1, c2] = this.#ss.split();
    return {
      send: this.initiator ? c1 : c2,
      receive: this.initiator ? c2 : c1,
      handshakeHash: this.#ss.handshakeHash,
      remoteStaticKey: this.#rs!,
    };
  }

  #checkTurn(writing: boolean): void {
    if (this.#failed) {
      throw new NoiseError("E_NOISE_STATE", "handshake has failed");
    }
    if (this.#next >= XX_PATTERN.length) {
      throw new NoiseError("E_NOISE_STATE", "handshake is already complete");
    }
    if (this.isMyTurn !== writing) {
      throw new NoiseError(
        "E_NOISE_STATE",
        `not our turn to ${writing ? "write" : "read"} handshake message ${this.#next + 1}`,
      );
    }
  }

  #decrypt(ciphertext: Uint8Array, type: string): Uint8Array {
    try {
      return this.#ss.decryptAndHash(ciphertext);
    } catch (error) {
      if (error instanceof NoiseError && error.code === "E_NOISE_DECRYPT") {
        throw new WireError(
          "E_WIRE_MALFORMED",
          type,
          "authentication failed (tampered, or the peers disagree on the prologue)",
          { cause: error },
        );
      }
      throw error;
    }
  }

  #mixDh(token: "ee" | "es" | "se"): void {
    // "es": DH(initiator's e, responder's s); "se": DH(initiator's s, responder's e).
    const local = token === "ee" ? this.#e : (token === "es") === this.initiator ? this.#e : this.#s;
    const remote = token === "ee" ? this.#re : (token === "es") === this.initiator ? this.#rs : this.#re;
    if (local === null || remote === null) {
      throw new NoiseError("E_NOISE_STATE", `missing key for token ${token}`);
    }
    this.#ss.mixKey(local.dh(remote));
  }
}

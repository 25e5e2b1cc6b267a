/**
 * The Noise Protocol Framework (revision 34), restricted to the one protocol
 * Macula speaks: `Noise_XX_25519_ChaChaPoly_SHA256`.
 *
 * Pure and synchronous: no I/O, no timers. Crypto comes from `node:crypto`
 * (X25519, ChaCha20-Poly1305, SHA-256, HMAC), the fastest implementation
 * available to both Deno and Node.
 *
 * - `CipherState`: a key and a 64-bit nonce counter (spec §5.1).
 * - `SymmetricState`: chaining key and handshake hash (spec §5.2).
 * - `XXHandshake`: the handshake state of the XX pattern (spec §5.3, §7.5):
 *
 *   ```
 *   -> e
 *   <- e, ee, s, es
 *   -> s, se
 *   ```
 *
 * Failures caused by bytes from the peer (truncated, oversized, tampered,
 * low-order keys) throw `WireError`; misuse and local limits throw
 * `NoiseError`.
 *
 * @module
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";
import { Buffer } from "node:buffer";
import { concat, fromHex, plain, utf8 } from "../util/bytes.ts";
import { MaculaError } from "../util/errors.ts";
import { WireError } from "../wire/errors.ts";

/** The full Noise protocol name; also the initial handshake hash (it is exactly 32 bytes). */
export const PROTOCOL_NAME = "Noise_XX_25519_ChaChaPoly_SHA256";
/** Length of an X25519 public key and of a DH output. */
export const DH_LENGTH = 32;
/** Length of a SHA-256 output (the chaining key and handshake hash). */
export const HASH_LENGTH = 32;
/** Length of a ChaCha20-Poly1305 key. */
export const KEY_LENGTH = 32;
/** Length of the Poly1305 authentication tag. */
export const TAG_LENGTH = 16;
/** Largest Noise message, handshake or transport (spec §3). */
export const MAX_MESSAGE_LENGTH = 65535;

const EMPTY = new Uint8Array(0);
const CIPHER = "chacha20-poly1305";
const X25519_PKCS8_PREFIX = fromHex("302e020100300506032b656e04220420");
const X25519_SPKI_PREFIX = fromHex("302a300506032b656e032100");
const MAX_NONCE = (1n << 64n) - 1n;

/** Stable codes of `NoiseError`. */
export type NoiseErrorCode =
  /** AEAD authentication failed: the ciphertext, tag, key, nonce or AD differ. */
  | "E_NOISE_DECRYPT"
  /** The nonce counter reached 2^64-1; the cipher state must not be used again. */
  | "E_NOISE_NONCE_EXHAUSTED"
  /** A message would exceed 65535 bytes. */
  | "E_NOISE_OVERSIZED"
  /** The API was used out of order (wrong turn, handshake failed or finished, split twice). */
  | "E_NOISE_STATE";

/**
 * A Noise-level failure that is not (only) about bad input: misuse, nonce
 * exhaustion, an oversized outgoing message, or an AEAD authentication
 * failure reported by `CipherState` (the handshake and the secure channel
 * turn the latter into a `WireError`).
 *
 * @example
 * ```ts
 * import { CipherState, NoiseError } from "./noise.ts";
 * try {
 *   new CipherState(new Uint8Array(32)).decryptWithAd(new Uint8Array(0), new Uint8Array(16));
 * } catch (e) {
 *   if (e instanceof NoiseError) console.log(e.code); // "E_NOISE_DECRYPT"
 * }
 * ```
 */
export class NoiseError extends MaculaError {
  /** A Noise error with a stable `code`. */
  constructor(code: NoiseErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}

// ---------------------------------------------------------------------------
// DH: X25519
// ---------------------------------------------------------------------------

/**
 * An X25519 key pair (the Noise `DH` functions for curve 25519).
 *
 * @example
 * ```ts
 * import { X25519KeyPair } from "./noise.ts";
 * const a = X25519KeyPair.generate();
 * const b = X25519KeyPair.generate();
 * a.dh(b.publicKey); // equals b.dh(a.publicKey)
 * ```
 */
export class X25519KeyPair {
  /** The 32-byte public key (little-endian u-coordinate). */
  readonly publicKey: Uint8Array;
  readonly #privateKey: KeyObject;

  private constructor(privateKey: KeyObject) {
    this.#privateKey = privateKey;
    const spki = plain(
      createPublicKey(privateKey).export({ format: "der", type: "spki" }),
    );
    this.publicKey = spki.slice(X25519_SPKI_PREFIX.length);
  }

  /** Generate a fresh key pair from the system CSPRNG. */
  static generate(): X25519KeyPair {
    return new X25519KeyPair(generateKeyPairSync("x25519").privateKey);
  }

  /** Rebuild a key pair from its 32-byte private key (e.g. a test vector). */
  static fromPrivateKey(privateKey: Uint8Array): X25519KeyPair {
    if (privateKey.length !== DH_LENGTH) {
      throw new RangeError(
        `an X25519 private key is ${DH_LENGTH} bytes, got ${privateKey.length}`,
      );
    }
    return new X25519KeyPair(createPrivateKey({
      key: Buffer.from(concat(X25519_PKCS8_PREFIX, privateKey)),
      format: "der",
      type: "pkcs8",
    }));
  }

  /**
   * X25519 with `remotePublicKey`. Throws `WireError` (`E_WIRE_INVALID`) if
   * the key is not 32 bytes or is of low order (all-zero shared secret):
   * such keys only ever come from a peer.
   */
  dh(remotePublicKey: Uint8Array): Uint8Array {
    if (remotePublicKey.length !== DH_LENGTH) {
      throw new WireError(
        "E_WIRE_INVALID",
        "X25519 public key",
        `expected ${DH_LENGTH} bytes, got ${remotePublicKey.length}`,
      );
    }
    let shared: Uint8Array;
    try {
      const publicKey = createPublicKey({
        key: Buffer.from(concat(X25519_SPKI_PREFIX, remotePublicKey)),
        format: "der",
        type: "spki",
      });
      shared = plain(
        diffieHellman({ privateKey: this.#privateKey, publicKey }),
      );
    } catch (error) {
      // OpenSSL refuses to derive an all-zero secret; report it as such.
      throw new WireError(
        "E_WIRE_INVALID",
        "X25519 public key",
        "key agreement failed (low-order point)",
        { cause: error },
      );
    }
    let acc = 0;
    for (let i = 0; i < shared.length; i++) acc |= shared[i];
    if (acc === 0) {
      throw new WireError(
        "E_WIRE_INVALID",
        "X25519 public key",
        "low-order point (all-zero shared secret)",
      );
    }
    return shared;
  }
}

// ---------------------------------------------------------------------------
// CipherState
// ---------------------------------------------------------------------------

/**
 * A ChaCha20-Poly1305 key and a 64-bit nonce counter (spec §5.1). The
 * 96-bit AEAD nonce is 4 zero bytes followed by the counter, little-endian.
 * The key is imported once as a `KeyObject` and reused for every message.
 *
 * @example
 * ```ts
 * import { CipherState } from "./noise.ts";
 * const key = crypto.getRandomValues(new Uint8Array(32));
 * const sender = new CipherState(key);
 * const receiver = new CipherState(key);
 * const sealed = sender.encryptWithAd(new Uint8Array(0), new TextEncoder().encode("hi"));
 * receiver.decryptWithAd(new Uint8Array(0), sealed); // the bytes of "hi"
 * ```
 */
export class CipherState {
  #key: KeyObject | null = null;
  // The counter as two 32-bit halves: exact up to 2^64-1 without BigInt.
  #lo = 0;
  #hi = 0;
  readonly #iv = new Uint8Array(12);
  readonly #ivView = new DataView(this.#iv.buffer);

  /** A cipher state with `key`, or without a key (pass-through) if omitted. */
  constructor(key?: Uint8Array | null) {
    this.initializeKey(key ?? null);
  }

  /** `InitializeKey(key)`: set the key (or clear it) and reset the nonce to 0. */
  initializeKey(key: Uint8Array | null): void {
    if (key !== null && key.length !== KEY_LENGTH) {
      throw new RangeError(
        `a cipher key is ${KEY_LENGTH} bytes, got ${key.length}`,
      );
    }
    this.#key = key === null ? null : createSecretKey(Buffer.from(key));
    this.#lo = 0;
    this.#hi = 0;
  }

  /** `HasKey()`. */
  hasKey(): boolean {
    return this.#key !== null;
  }

  /** The next nonce to be used. */
  get nonce(): bigint {
    return (BigInt(this.#hi) << 32n) | BigInt(this.#lo);
  }

  /** `SetNonce(n)`: for tests and out-of-order transports. */
  setNonce(nonce: bigint): void {
    if (nonce < 0n || nonce > MAX_NONCE) {
      throw new RangeError("a nonce is an unsigned 64-bit integer");
    }
    this.#lo = Number(nonce & 0xffffffffn);
    this.#hi = Number(nonce >> 32n);
  }

  /**
   * `EncryptWithAd(ad, plaintext)`: ciphertext followed by the 16-byte tag,
   * or a copy of `plaintext` if there is no key.
   */
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    if (this.#key === null) return plaintext.slice();
    const out = new Uint8Array(plaintext.length + TAG_LENGTH);
    this.#seal(ad, plaintext, out, 0);
    return out;
  }

  /**
   * Encrypt `plaintext` with empty associated data into `out` at `offset`
   * (ciphertext, then tag): the transport fast path, which lets the caller
   * build `[length][ciphertext][tag]` in one buffer and send it with one
   * write. `out` must have `plaintext.length + 16` bytes free at `offset`.
   */
  encryptInto(plaintext: Uint8Array, out: Uint8Array, offset: number): void {
    if (this.#key === null) {
      throw new NoiseError("E_NOISE_STATE", "cipher state has no key");
    }
    if (offset < 0 || out.length - offset < plaintext.length + TAG_LENGTH) {
      throw new RangeError("output buffer is too small for ciphertext and tag");
    }
    this.#seal(EMPTY, plaintext, out, offset);
  }

  /**
   * `DecryptWithAd(ad, ciphertext)`: the plaintext, or a copy of
   * `ciphertext` if there is no key. Throws `NoiseError` (`E_NOISE_DECRYPT`)
   * if authentication fails; the nonce then stays unchanged.
   */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (this.#key === null) return ciphertext.slice();
    this.#checkNonce();
    if (ciphertext.length < TAG_LENGTH) {
      throw new NoiseError(
        "E_NOISE_DECRYPT",
        `ciphertext of ${ciphertext.length} bytes is shorter than the ${TAG_LENGTH}-byte tag`,
      );
    }
    this.#writeIv();
    const end = ciphertext.length - TAG_LENGTH;
    let plaintext: Uint8Array;
    try {
      const decipher = createDecipheriv(CIPHER, this.#key, this.#iv, {
        authTagLength: TAG_LENGTH,
      });
      decipher.setAuthTag(ciphertext.subarray(end));
      if (ad.length > 0) decipher.setAAD(ad, { plaintextLength: end });
      plaintext = plain(decipher.update(ciphertext.subarray(0, end)));
      decipher.final();
    } catch (error) {
      throw new NoiseError("E_NOISE_DECRYPT", "authentication failed", {
        cause: error,
      });
    }
    this.#increment();
    return plaintext;
  }

  /** `Rekey()`: replace the key with `ENCRYPT(k, 2^64-1, "", zeros)[0..32]`. */
  rekey(): void {
    if (this.#key === null) {
      throw new NoiseError("E_NOISE_STATE", "cipher state has no key");
    }
    const iv = new Uint8Array(12);
    iv.fill(0xff, 4);
    const cipher = createCipheriv(CIPHER, this.#key, iv, {
      authTagLength: TAG_LENGTH,
    });
    const key = plain(cipher.update(new Uint8Array(KEY_LENGTH)));
    cipher.final();
    this.#key = createSecretKey(Buffer.from(key));
  }

  #seal(
    ad: Uint8Array,
    plaintext: Uint8Array,
    out: Uint8Array,
    offset: number,
  ): void {
    this.#checkNonce();
    this.#writeIv();
    const cipher = createCipheriv(CIPHER, this.#key!, this.#iv, {
      authTagLength: TAG_LENGTH,
    });
    if (ad.length > 0) {
      cipher.setAAD(ad, { plaintextLength: plaintext.length });
    }
    out.set(cipher.update(plaintext), offset);
    cipher.final();
    out.set(cipher.getAuthTag(), offset + plaintext.length);
    this.#increment();
  }

  #checkNonce(): void {
    if (this.#hi === 0xffffffff && this.#lo === 0xffffffff) {
      throw new NoiseError(
        "E_NOISE_NONCE_EXHAUSTED",
        "nonce reached 2^64-1; this cipher state must not be used again",
      );
    }
  }

  #writeIv(): void {
    this.#ivView.setUint32(4, this.#lo, true);
    this.#ivView.setUint32(8, this.#hi, true);
  }

  #increment(): void {
    this.#lo = (this.#lo + 1) >>> 0;
    if (this.#lo === 0) this.#hi = (this.#hi + 1) >>> 0;
  }
}

// ---------------------------------------------------------------------------
// SymmetricState
// ---------------------------------------------------------------------------

function sha256(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return plain(hash.digest());
}

function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const mac = createHmac("sha256", key);
  for (const part of parts) mac.update(part);
  return plain(mac.digest());
}

/**
 * `HKDF(chaining_key, input_key_material, 2)` of the Noise spec (§4.3):
 * RFC 5869 HKDF-SHA256 with salt = chaining key, empty info, 64 bytes out.
 */
export function hkdf(
  chainingKey: Uint8Array,
  inputKeyMaterial: Uint8Array,
): [Uint8Array, Uint8Array] {
  const tempKey = hmacSha256(chainingKey, inputKeyMaterial);
  const output1 = hmacSha256(tempKey, Uint8Array.of(1));
  const output2 = hmacSha256(tempKey, output1, Uint8Array.of(2));
  return [output1, output2];
}

/**
 * The chaining key `ck`, the handshake hash `h` and a `CipherState`
 * (spec §5.2).
 *
 * @example
 * ```ts
 * import { SymmetricState } from "./noise.ts";
 * const ss = new SymmetricState();
 * ss.mixHash(new TextEncoder().encode("prologue"));
 * ss.handshakeHash; // 32 bytes
 * ```
 */
export class SymmetricState {
  #ck: Uint8Array;
  #h: Uint8Array;
  /** The handshake cipher state (no key until the first `mixKey`). */
  readonly cipher: CipherState = new CipherState();

  /** `InitializeSymmetric(protocol_name)`. */
  constructor(protocolName: string = PROTOCOL_NAME) {
    const name = utf8(protocolName);
    if (name.length <= HASH_LENGTH) {
      this.#h = new Uint8Array(HASH_LENGTH);
      this.#h.set(name);
    } else {
      this.#h = sha256(name);
    }
    this.#ck = this.#h.slice();
  }

  /** A copy of the current handshake hash `h`. */
  get handshakeHash(): Uint8Array {
    return this.#h.slice();
  }

  /** `MixKey(input_key_material)`. */
  mixKey(inputKeyMaterial: Uint8Array): void {
    const [ck, tempK] = hkdf(this.#ck, inputKeyMaterial);
    this.#ck = ck;
    this.cipher.initializeKey(tempK);
  }

  /** `MixHash(data)`: `h = SHA256(h || data)`. */
  mixHash(data: Uint8Array): void {
    this.#h = sha256(this.#h, data);
  }

  /** `EncryptAndHash(plaintext)`. */
  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.cipher.encryptWithAd(this.#h, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  /** `DecryptAndHash(ciphertext)`; throws `NoiseError` (`E_NOISE_DECRYPT`). */
  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const plaintext = this.cipher.decryptWithAd(this.#h, ciphertext);
    this.mixHash(ciphertext);
    return plaintext;
  }

  /** `Split()`: the initiator-to-responder and responder-to-initiator cipher states. */
  split(): [CipherState, CipherState] {
    const [k1, k2] = hkdf(this.#ck, EMPTY);
    return [new CipherState(k1), new CipherState(k2)];
  }
}

// ---------------------------------------------------------------------------
// HandshakeState for XX
// ---------------------------------------------------------------------------

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
 * import { XXHandshake } from "./noise.ts";
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

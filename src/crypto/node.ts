/**
 * The `node:crypto` backend (OpenSSL: the fastest implementation under both
 * Deno and Node). Keys are imported once as `KeyObject`s and reused; the
 * public keys of verified signatures are cached. Ed25519 inputs pass the
 * strict checks of `ed25519-strict.ts` before OpenSSL sees them.
 *
 * This is the only module of `src/` outside `src/platform` that imports a
 * Node built-in. A bundle for a runtime without `node:crypto` (a browser)
 * maps this file to `./absent.ts`; `mod.ts` then falls back to `noble.ts`.
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
  type KeyObject,
  sign,
  verify,
} from "node:crypto";
import { Buffer } from "node:buffer";
import { concat, plain, toHex } from "../util/bytes.ts";
import { ED25519_PKCS8_PREFIX, ED25519_SPKI_PREFIX, X25519_PKCS8_PREFIX, X25519_SPKI_PREFIX } from "./der.ts";
import { strictEd25519Inputs } from "./ed25519-strict.ts";
import type { AeadKey, CryptoBackend, Ed25519SigningKey, X25519PrivateKey } from "./types.ts";

const CIPHER = "chacha20-poly1305";
const TAG_LENGTH = 16;
const PUBLIC_KEY_CACHE_MAX = 4096;

function privateKeyObject(prefix: Uint8Array, key: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.from(concat(prefix, key)), format: "der", type: "pkcs8" });
}

function publicKeyObject(prefix: Uint8Array, key: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.from(concat(prefix, key)), format: "der", type: "spki" });
}

function rawPublicKey(privateKey: KeyObject, prefix: Uint8Array): Uint8Array {
  return plain(createPublicKey(privateKey).export({ format: "der", type: "spki" })).slice(prefix.length);
}

const verifyKeys = new Map<string, KeyObject>();

function verifyKey(publicKey: Uint8Array): KeyObject {
  const hex = toHex(publicKey);
  let key = verifyKeys.get(hex);
  if (key === undefined) {
    key = publicKeyObject(ED25519_SPKI_PREFIX, publicKey);
    if (verifyKeys.size >= PUBLIC_KEY_CACHE_MAX) verifyKeys.delete(verifyKeys.keys().next().value!);
    verifyKeys.set(hex, key);
  }
  return key;
}

class NodeAeadKey implements AeadKey {
  readonly #key: KeyObject;

  constructor(key: Uint8Array) {
    this.#key = createSecretKey(Buffer.from(key));
  }

  seal(nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, offset: number): void {
    const cipher = createCipheriv(CIPHER, this.#key, nonce, { authTagLength: TAG_LENGTH });
    if (ad.length > 0) cipher.setAAD(ad, { plaintextLength: plaintext.length });
    out.set(cipher.update(plaintext), offset);
    cipher.final();
    out.set(cipher.getAuthTag(), offset + plaintext.length);
  }

  open(nonce: Uint8Array, ad: Uint8Array, sealed: Uint8Array): Uint8Array {
    if (sealed.length < TAG_LENGTH) throw new RangeError("sealed message is shorter than the tag");
    const end = sealed.length - TAG_LENGTH;
    const decipher = createDecipheriv(CIPHER, this.#key, nonce, { authTagLength: TAG_LENGTH });
    decipher.setAuthTag(sealed.subarray(end));
    if (ad.length > 0) decipher.setAAD(ad, { plaintextLength: end });
    const plaintext = plain(decipher.update(sealed.subarray(0, end)));
    decipher.final();
    return plaintext;
  }
}

/**
 * The `node:crypto` backend.
 *
 * @example
 * ```ts
 * import { nodeBackend } from "./node.ts";
 * nodeBackend!.sha256([new TextEncoder().encode("abc")]).length; // 32
 * ```
 */
export const nodeBackend: CryptoBackend | undefined = {
  name: "node",
  ed25519FromSeed(seed: Uint8Array): Ed25519SigningKey {
    const key = privateKeyObject(ED25519_PKCS8_PREFIX, seed);
    return {
      publicKey: rawPublicKey(key, ED25519_SPKI_PREFIX),
      sign: (message) => plain(sign(null, message, key)),
    };
  },
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    // OpenSSL alone accepts small-order keys with trivial signatures: check the inputs first.
    if (!strictEd25519Inputs(publicKey, signature)) return false;
    try {
      return verify(null, message, verifyKey(publicKey), signature);
    } catch {
      return false;
    }
  },
  x25519FromPrivate(privateKey: Uint8Array): X25519PrivateKey {
    const key = privateKeyObject(X25519_PKCS8_PREFIX, privateKey);
    return {
      publicKey: rawPublicKey(key, X25519_SPKI_PREFIX),
      dh: (publicKey) =>
        plain(diffieHellman({ privateKey: key, publicKey: publicKeyObject(X25519_SPKI_PREFIX, publicKey) })),
    };
  },
  aeadKey: (key: Uint8Array): AeadKey => new NodeAeadKey(key),
  sha256(parts: readonly Uint8Array[]): Uint8Array {
    const hash = createHash("sha256");
    for (const part of parts) if (part.length > 0) hash.update(part);
    return plain(hash.digest());
  },
  hmacSha256(key: Uint8Array, parts: readonly Uint8Array[]): Uint8Array {
    const mac = createHmac("sha256", key);
    for (const part of parts) if (part.length > 0) mac.update(part);
    return plain(mac.digest());
  },
};

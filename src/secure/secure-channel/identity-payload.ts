/**
 * The identity payload of Noise handshake messages 2 and 3: binds a node's
 * Ed25519 identity to the X25519 static key of one secure channel.
 *
 * A payload is the CBOR map `{ id, sig }`: the 32-byte Ed25519 public key
 * and its 64-byte signature over
 * `utf8("macula-noise-static/1") || <sender's X25519 static public key>`.
 * Noise proves the peer holds that static key; the signature proves the
 * Ed25519 identity vouches for it.
 *
 * @module
 */
import type { KeyPair } from "../../identity/ed25519.ts";
import { verify } from "../../identity/ed25519.ts";
import { NodeId } from "../../identity/node-id.ts";
import { concat, utf8 } from "../../util/bytes.ts";
import { encodeCbor } from "../../wire/cbor.ts";
import { bytes, messageDecoder, object } from "../../wire/schema.ts";
import { HandshakeError } from "../errors.ts";

/** Domain separation prefix of the signature over the Noise static key. */
export const STATIC_KEY_SIGNATURE_CONTEXT: Uint8Array = utf8(
  "macula-noise-static/1",
);

/** Decodes the identity payload of Noise handshake messages 2 and 3. */
export const decodeIdentityPayload = messageDecoder(
  "noise identity payload",
  object({ id: bytes({ length: 32 }), sig: bytes({ length: 64 }) }),
);

/**
 * Our identity payload: `identity`'s public key and its signature over
 * `localStaticKey`, CBOR-encoded.
 *
 * @example
 * ```ts
 * import { KeyPair } from "../../identity/ed25519.ts";
 * import { XXHandshake } from "../noise.ts";
 * import { authenticate, encodeIdentityPayload } from "./identity-payload.ts";
 * const identity = KeyPair.generate();
 * const hs = new XXHandshake({ initiator: true });
 * const payload = encodeIdentityPayload(identity, hs.localStaticKey);
 * authenticate(payload, hs.localStaticKey).did; // identity's did
 * ```
 */
export function encodeIdentityPayload(identity: KeyPair, localStaticKey: Uint8Array): Uint8Array {
  return encodeCbor({
    id: identity.publicKey,
    sig: identity.sign(
      concat(STATIC_KEY_SIGNATURE_CONTEXT, localStaticKey),
    ),
  });
}

/**
 * Check the peer's identity payload against the static key Noise proved and
 * return the proven identity. Throws `WireError` for a malformed payload,
 * `HandshakeError` for a signature that does not cover `remoteStatic`.
 *
 * @example
 * ```ts
 * import { authenticate } from "./identity-payload.ts";
 * declare const payload: Uint8Array; // from XXHandshake.readMessage
 * declare const remoteStatic: Uint8Array; // XXHandshake.remoteStaticKey
 * const remoteId = authenticate(payload, remoteStatic);
 * ```
 */
export function authenticate(payload: Uint8Array, remoteStatic: Uint8Array): NodeId {
  const { id, sig } = decodeIdentityPayload(payload);
  if (!verify(id, concat(STATIC_KEY_SIGNATURE_CONTEXT, remoteStatic), sig)) {
    throw new HandshakeError(
      "peer's identity signature does not cover its Noise static key",
    );
  }
  return new NodeId(id);
}

/**
 * The handshake driver of a secure channel: exchanges the three
 * length-prefixed `Noise_XX` messages over a raw duplex, carrying and
 * checking the identity payloads, and hands the result to `NoiseChannel`.
 *
 * ```
 * -> e                                      payload: empty
 * <- e, ee, s, es                           payload: identity of the responder
 * -> s, se                                  payload: identity of the initiator
 * ```
 *
 * No timeout and no cleanup here: the caller bounds the time and closes the
 * duplex on failure.
 *
 * @module
 */
import type { KeyPair } from "../../identity/ed25519.ts";
import type { NodeId } from "../../identity/node-id.ts";
import { utf8 } from "../../util/bytes.ts";
import { WireError } from "../../wire/errors.ts";
import { BufferedReader } from "../../wire/frame.ts";
import { HandshakeError, PeerIdMismatchError } from "../errors.ts";
import { XXHandshake } from "../noise.ts";
import { authenticate, encodeIdentityPayload } from "./identity-payload.ts";
import { NoiseChannel, type RawDuplex, type SecureChannel } from "./noise-channel.ts";

/** The Noise prologue every Macula channel commits to. */
export const NOISE_PROLOGUE: Uint8Array = utf8("macula/noise/1");

/**
 * Run the XX handshake over `raw` as the initiator (`initiator` true: the
 * responder's identity is checked, against `expectedRemoteId` if given,
 * before ours is revealed) or as the responder, and return the encrypted
 * channel. Rejects with `WireError`, `HandshakeError` or
 * `PeerIdMismatchError`; `raw` is left open.
 *
 * @example
 * ```ts
 * import { KeyPair } from "../../identity/ed25519.ts";
 * import { runHandshake } from "./handshake.ts";
 * import type { RawDuplex } from "./noise-channel.ts";
 * declare const tcp: RawDuplex;
 * const channel = await runHandshake(tcp, KeyPair.generate(), false, undefined);
 * console.log(`connection from ${channel.remoteId.did}`);
 * ```
 */
export async function runHandshake(
  raw: RawDuplex,
  identity: KeyPair,
  initiator: boolean,
  expectedRemoteId: NodeId | undefined,
): Promise<SecureChannel> {
  const reader = new BufferedReader(raw);
  const hs = new XXHandshake({ initiator, prologue: NOISE_PROLOGUE });
  const ownPayload = encodeIdentityPayload(identity, hs.localStaticKey);
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

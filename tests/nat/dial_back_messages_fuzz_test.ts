import { assert } from "../helpers/assert.ts";
import { fuzzDecoder } from "../helpers/mutate.ts";
import {
  decodeDialbackAnswer,
  decodeDialbackRequest,
  encodeDialbackAnswer,
  encodeDialbackRequest,
} from "../../src/nat/dial-back-messages.ts";
import { WireError } from "../../src/wire/errors.ts";

Deno.test("dialback messages fuzz: 10,000 mutations of each message decode or throw WireError", () => {
  const request = encodeDialbackRequest({ addrs: ["quic://198.51.100.2:9443", "tcp://[2001:db8::1]:9443"] });
  const answer = encodeDialbackAnswer({
    results: [{ addr: "quic://198.51.100.2:9443", ok: true }, {
      addr: "tcp://[2001:db8::1]:9443",
      ok: false,
      error: "E_DIAL",
    }],
  });
  const refusal = encodeDialbackAnswer({ refused: "address", message: "not your address" });
  assert(fuzzDecoder("dialback request", request, decodeDialbackRequest, WireError) > 0);
  assert(fuzzDecoder("dialback answer", answer, decodeDialbackAnswer, WireError) > 0);
  assert(fuzzDecoder("dialback refusal", refusal, decodeDialbackAnswer, WireError) > 0);
});

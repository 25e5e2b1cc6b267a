/**
 * The WebRTC link (cases in `webrtc_cases.ts`, run in their own process:
 * node-datachannel is a native addon that must stay in one isolate).
 */
import { runCases } from "../helpers/webrtc_child.ts";

Deno.test("webrtc link: signaling over the mesh, data both ways, wrong id, bad input", async () => {
  await runCases("tests/transport/webrtc_cases.ts");
});

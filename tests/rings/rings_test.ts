/**
 * Rings (cases in `rings_cases.ts`, run in their own process:
 * node-datachannel is a native addon that must stay in one isolate).
 */
import { runCases } from "../helpers/webrtc_child.ts";

Deno.test("rings: three members, 1,000 messages over WebRTC only, leave and down", async () => {
  await runCases("tests/rings/rings_cases.ts");
});

import { linkSuite } from "../helpers/link_suite.ts";
import { QuicTransport } from "../../src/transport/quic.ts";
import { currentPlatform } from "../../src/platform/current.ts";

linkSuite("quic", (ctx, port = 0) => new QuicTransport(currentPlatform().quic!, ctx, { host: "127.0.0.1", port }));

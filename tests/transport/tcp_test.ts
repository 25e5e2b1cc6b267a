import { linkSuite } from "../helpers/link_suite.ts";
import { TcpTransport } from "../../src/transport/tcp.ts";
import { currentPlatform } from "../../src/platform/current.ts";

linkSuite("tcp", (port = 0) => new TcpTransport(currentPlatform().tcp, { host: "127.0.0.1", port }));

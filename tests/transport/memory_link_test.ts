import { linkSuite } from "../helpers/link_suite.ts";
import { MemoryNetwork, MemoryTransport } from "../../src/transport/memory.ts";

// Every memory transport of the suite joins one network under its own name.
const network = new MemoryNetwork();
let next = 0;
linkSuite("memory", () => new MemoryTransport(network, `link-${next++}`));

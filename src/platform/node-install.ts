/**
 * Installs the Node platform as the current one, for its side effect: the
 * Node build's entry (`cross-compile/node_main.ts`) imports this module
 * before `main.ts`. Nothing in the Deno module graph imports it, so Deno
 * never loads `node:net`, `node:dgram`, `node:http` or `node:fs`.
 *
 * @module
 */
import { installPlatform } from "./current.ts";
import { createNodePlatform } from "./node.ts";

installPlatform(createNodePlatform());

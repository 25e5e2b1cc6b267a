import { assertEquals } from "../helpers/assert.ts";
import { NODE_ENTRY, npmAliases } from "../../cross-compile/bundle.ts";

Deno.test("bundle: npm: specifiers in source become esbuild aliases to the bare package names", () => {
  assertEquals(
    npmAliases([
      "npm:@noble/curves@2.4.0/ed25519.js",
      "npm:@noble/hashes@2.4.0/sha2.js",
      "npm:@noble/hashes@2.4.0/hmac.js",
      "npm:left-pad@^1.3.0",
      "npm:/plain",
      "./local.ts",
      "node:crypto",
    ]),
    [
      "--alias:npm:/plain=plain",
      "--alias:npm:@noble/curves@2.4.0=@noble/curves",
      "--alias:npm:@noble/hashes@2.4.0=@noble/hashes",
      "--alias:npm:left-pad@^1.3.0=left-pad",
    ],
  );
});

Deno.test("bundle: the Node entry installs the Node platform before main.ts runs", async () => {
  const source = await Deno.readTextFile(new URL(`../../${NODE_ENTRY}`, import.meta.url));
  const imports = [...source.matchAll(/^import "([^"]+)";$/gm)].map((m) => m[1]);
  assertEquals(imports, ["../src/platform/node-install.ts", "../main.ts"]);
});

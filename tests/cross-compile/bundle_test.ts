import { assertEquals } from "../helpers/assert.ts";
import { NODE_ENTRY, npmAliases, reachableNpmPackages } from "../../cross-compile/bundle.ts";

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

Deno.test("reachableNpmPackages: only what the graph's npm modules reach, transitively (test-only packages stay out)", () => {
  const pkg = (name: string, version: string, dependencies: string[] = []) => ({ name, version, dependencies });
  const info = {
    modules: [
      { kind: "esm", dependencies: [{ specifier: "npm:@ipld/dag-cbor@10.0.2" }] },
      { kind: "npm", npmPackage: "@ipld/dag-cbor@10.0.2" },
    ],
    npmPackages: {
      "@ipld/dag-cbor@10.0.2": pkg("@ipld/dag-cbor", "10.0.2", ["cborg@6.1.5", "multiformats@14.0.5"]),
      "cborg@6.1.5": pkg("cborg", "6.1.5"),
      "multiformats@14.0.5": pkg("multiformats", "14.0.5", ["cborg@6.1.5"]),
      "puppeteer-core@25.19.0": pkg("puppeteer-core", "25.19.0", ["string-width@7.2.0"]),
      "string-width@7.2.0": pkg("string-width", "7.2.0"),
      "string-width@8.3.0": pkg("string-width", "8.3.0"),
    },
  };
  assertEquals(
    reachableNpmPackages(info).map((p) => `${p.name}@${p.version}`).sort(),
    ["@ipld/dag-cbor@10.0.2", "cborg@6.1.5", "multiformats@14.0.5"],
  );
});

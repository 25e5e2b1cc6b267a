/**
 * The entry of the Node bundle: installs the Node platform, then runs
 * `main.ts` (ES modules are evaluated in import order, and esbuild keeps
 * that order in the CommonJS bundle).
 *
 * @module
 */
import "../src/platform/node-install.ts";
import "../main.ts";

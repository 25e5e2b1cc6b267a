/**
 * Stands in for `node.ts` in a bundle for a runtime without `node:crypto`
 * (map `src/crypto/node.ts` to this file): no Node backend, so `mod.ts`
 * uses the pure-JavaScript one.
 *
 * @module
 */
import type { CryptoBackend } from "./types.ts";

/** No `node:crypto` here. */
export const nodeBackend: CryptoBackend | undefined = undefined;

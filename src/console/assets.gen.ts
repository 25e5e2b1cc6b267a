/**
 * A placeholder for the console's embedded assets, replaced by the console
 * build's generated module.
 *
 * @module
 */
import type { ConsoleAsset } from "./asset.ts";

/** The console's files by URL path. */
export const CONSOLE_ASSETS: Readonly<Record<string, ConsoleAsset>> = {
  "/console/index.html": {
    type: "text/html; charset=utf-8",
    gzip:
      "H4sIAAAAAAACA02OPQ7CMAyFd05hOsEAWRmMb8DGBdLEKJXcOGocod6eQkBiecP3fvRwHzXYWhiSzUL4VfaRcGbzEJJfKtt1aPY4XQZCm0yYbj402VzNVYXRdYquN0eNK2Ghe+JfBJ6+QlaDsU1icFhaBvuz3zgez+jKttL77nNm9wLXXJTjowAAAA==",
  },
};

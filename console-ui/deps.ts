/// <reference lib="dom" />
/**
 * The page's libraries, pinned in one place: Preact with htm (tagged
 * templates instead of a JSX build), uPlot for the charts, d3-force for the
 * graph layout. `scripts/build-console.ts` bundles them into `app.js`.
 *
 * @module
 */
import { h } from "npm:preact@11.2.0";
import htm from "npm:htm@3.1.1";

export { h, render } from "npm:preact@11.2.0";
export type { ComponentChildren, VNode } from "npm:preact@11.2.0";
export { useEffect, useMemo, useRef, useState } from "npm:preact@11.2.0/hooks";
export { default as uPlot } from "npm:uplot@1.6.32";
export { forceCollide, forceLink, forceManyBody, forceSimulation } from "npm:d3-force@3.0.1";

/** The type of `html`. */
export type Html = (strings: TemplateStringsArray, ...values: unknown[]) => ReturnType<typeof h>;

/** `html\`<div>…</div>\`` builds Preact elements (htm's types do not say its default export is the function). */
export const html: Html = (htm as unknown as { bind(factory: typeof h): Html }).bind(h);

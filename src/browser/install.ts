/**
 * Installs the browser platform. The browser entry imports this first, so
 * the platform is in place before any module asks for it (ES modules run
 * their imports in order, depth first).
 *
 * @module
 */
import { installPlatform } from "../platform/current.ts";
import { createBrowserPlatform } from "../platform/browser.ts";

installPlatform(createBrowserPlatform());

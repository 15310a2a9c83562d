import fs from "node:fs";
import path from "node:path";
import type { Page } from "@playwright/test";

export const ARTIFACTS = path.resolve(import.meta.dirname, "artifacts");

/** Full-page screenshot under e2e/artifacts/ (git-ignored), one per flow. */
export async function shot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Screenshot of the viewport only (what the user sees first, before scrolling) under e2e/artifacts/. */
export async function shotViewport(page: Page, name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

/** How many pixels the page is wider than the window (0 when it fits; > 0 means a sideways scroll). */
export async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => Math.max(0, document.documentElement.scrollWidth - document.documentElement.clientWidth));
}

/** Records console errors and page errors; call the returned function to read them. */
export function collectConsoleErrors(page: Page): () => string[] {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  // Name the failing URL: the console only says "Failed to load resource".
  page.on("response", (r) => {
    if (r.status() >= 400) errors.push(`HTTP ${r.status()} ${r.url()}`);
  });
  return () => errors;
}

/** Screenshot of the same page in dark mode (prefers-color-scheme: dark), saved as `<name>-dark.png`. */
export async function shotDark(page: Page, name: string): Promise<string> {
  await page.emulateMedia({ colorScheme: "dark" });
  const file = await shot(page, `${name}-dark`);
  await page.emulateMedia({ colorScheme: "light" });
  return file;
}

/**
 * Specs import `test` and `expect` from here (or from @playwright/test: the same objects). Every
 * spec runs signed in as the first admin: playwright.config.ts's `e2e` project loads the session
 * that e2e/auth.setup.ts saved. A spec that needs another user or none uses `browser.newContext()`.
 */
export { expect, test } from "@playwright/test";

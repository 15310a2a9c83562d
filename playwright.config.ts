import os from "node:os";
import path from "node:path";
import { defineConfig } from "@playwright/test";

/**
 * E2E runs the real thing: `npm start` (scripts/start.ts) with a throwaway data directory, so
 * the embedded database, migrations, build, web app and worker are all exercised as a user
 * gets them. Chromium is Debian's (/usr/bin/chromium); Playwright never downloads a browser.
 */
const port = Number(process.env.E2E_PORT ?? 3100);
export const dataDir = process.env.E2E_DATA_DIR ?? path.join(os.tmpdir(), `omen-e2e-${process.pid}-${Date.now()}`);
// Test workers load this file again: hand them the same directory.
process.env.E2E_DATA_DIR = dataDir;
export const baseURL = `http://127.0.0.1:${port}`;
/** The first admin's password (webServer env) and where the signed-in session is kept for every spec. */
export const ADMIN_PASSWORD = process.env.E2E_ADMIN_PASSWORD ?? "e2e-admin-password-0123";
export const ADMIN_STATE = path.join(import.meta.dirname, "e2e", "artifacts", ".auth", "admin.json");

export default defineConfig({
  testDir: "e2e",
  outputDir: "e2e/artifacts/test-output",
  timeout: 90_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  // e2e/auth.setup.ts signs in as the first admin once; every other spec starts signed in.
  projects: [
    { name: "setup", testMatch: /auth\.setup\.ts$/ },
    { name: "e2e", dependencies: ["setup"], testIgnore: /auth\.setup\.ts$/, use: { storageState: ADMIN_STATE } },
  ],
  use: {
    baseURL,
    screenshot: "only-on-failure",
    trace: "off",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    },
  },
  webServer: {
    // e2e/seed.ts ingests the e2e telemetry (and writes omen.yaml) into the fresh data directory first.
    command: `node --import tsx e2e/seed.ts && node --import tsx scripts/start.ts`,
    url: `${baseURL}/api/health`,
    timeout: 420_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      PORT: String(port),
      HOST: "127.0.0.1",
      OMEN_DATA_DIR: dataDir,
      DATABASE_URL: process.env.E2E_DATABASE_URL ?? "",
      OMEN_INGEST_TOKEN: process.env.OMEN_INGEST_TOKEN ?? "e2e-test-token-0123456789",
      OMEN_CONFIG_FILE: path.join(dataDir, "omen.yaml"),
      OMEN_ADMIN_PASSWORD: ADMIN_PASSWORD,
    },
  },
});

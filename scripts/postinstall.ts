/**
 * npm postinstall: generate the Prisma client (offline), then build the web app once on a fresh
 * checkout so that the first `npm start` serves the dashboard within seconds. Later installs
 * (adding a package) skip the build; `npm start` rebuilds whenever sources changed.
 * OMEN_SKIP_POSTINSTALL_BUILD=1 skips the build.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const run = (args: string[]) => spawnSync(process.execPath, args, { cwd: root, stdio: "inherit", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } }).status ?? 1;

const generated = run(["--import", "tsx", path.join(root, "scripts", "prisma-generate.ts")]);
if (generated !== 0) process.exit(generated);

const fresh = !fs.existsSync(path.join(root, ".next", "BUILD_ID"));
// runs during `npm install`, before Omen's settings exist: an install switch, not a setting
if (fresh && process.env.OMEN_SKIP_POSTINSTALL_BUILD !== "1") {
  console.log("omen: building the web app once so that `npm start` is ready at once…");
  // A failed build must not fail the install: `npm start` retries and shows the error there.
  if (run([path.join(root, "node_modules", "next", "dist", "bin", "next"), "build"]) !== 0) {
    console.warn("omen: web build failed; `npm start` will try again.");
  }
}

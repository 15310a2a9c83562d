import fs from "node:fs";
import path from "node:path";
import { defineConfig } from "prisma/config";

/**
 * Prisma CLI configuration. Run the CLI through `npm run prisma -- <args>` (scripts/prisma.ts):
 * it points Prisma at the offline Wasm schema engine and, when DATABASE_URL is unset, at the
 * embedded database. See docs/prisma-offline.md.
 *
 * `env()` from prisma/config throws when a variable is unset, which would break `prisma generate`
 * on a fresh clone, so the URL is read from process.env with fallbacks instead:
 *   1. DATABASE_URL
 *   2. the embedded database a running Omen serves (`<OMEN_DATA_DIR>/embedded.json`)
 *   3. none: commands that need a database say so; generate and schema-only diffs still work.
 */
function embeddedUrl(): string | undefined {
  try {
    const dataDir = path.resolve(process.env.OMEN_DATA_DIR ?? ".omen");
    const info = JSON.parse(fs.readFileSync(path.join(dataDir, "embedded.json"), "utf8")) as { url?: unknown };
    return typeof info.url === "string" ? info.url : undefined;
  } catch {
    return undefined;
  }
}

const url = process.env.DATABASE_URL || embeddedUrl();
const shadowDatabaseUrl = process.env.SHADOW_DATABASE_URL || undefined;

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: {
    ...(url ? { url } : {}),
    ...(shadowDatabaseUrl ? { shadowDatabaseUrl } : {}),
  },
});

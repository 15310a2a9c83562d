/**
 * `prisma generate`, offline (npm postinstall and `npm run db:generate`).
 *
 * Generation needs no schema engine, but Prisma 7 tries to download one unless
 * PRISMA_SCHEMA_ENGINE_BINARY names an existing file: scripts/prisma.ts sets it. No database and
 * no DATABASE_URL are needed. On a checkout without prisma/schema.prisma yet, it does nothing.
 */
import fs from "node:fs";
import path from "node:path";
import { repoRoot, runPrisma } from "./prisma";

async function main(): Promise<number> {
  const schema = path.join(repoRoot, "prisma", "schema.prisma");
  if (!fs.existsSync(schema)) {
    console.warn(`prisma-generate: ${path.relative(repoRoot, schema)} not found; nothing to generate.`);
    return 0;
  }
  return runPrisma(["generate", ...process.argv.slice(2)]);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`prisma-generate: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);

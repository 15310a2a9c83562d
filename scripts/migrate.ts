/** `npm run migrate`: applies prisma/migrations with the start-up runner (no schema engine needed). */
import { resolveDatabase } from "../server/embedded/embedded-db";
import { ConfigError, parseEnv } from "../server/env";
import { migrate } from "../server/migrate";

try {
  const env = parseEnv();
  const { url, embedded, mode } = await resolveDatabase(env.DATABASE_URL, env.dataDir);
  const r = await migrate(url);
  console.log(`${mode} database: applied ${r.applied.length} migration(s) ${r.applied.join(", ")}; ${r.alreadyApplied} already applied`);
  await embedded?.stop();
} catch (e) {
  console.error(e instanceof ConfigError ? e.message : `migration failed: ${(e as Error).message}`);
  process.exit(1);
}

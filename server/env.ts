import path from "node:path";
import { z } from "zod";

/** Settings shared by the web app, the worker and the scripts; validated once at start-up. */
export const ZEnv = z.object({
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  HOST: z.string().min(1).default("127.0.0.1"),
  DATABASE_URL: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v ? v : undefined))
    .refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), {
      message: "must be a postgres:// or postgresql:// URL (unset it to use the embedded database)",
    }),
  OMEN_DATA_DIR: z.string().min(1).default(".omen"),
  OMEN_INGEST_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  OMEN_COLLECT_INTERVAL_MS: z.coerce.number().int().min(1000).max(3_600_000).default(10_000),
  OMEN_CONFIG_FILE: z.string().default("omen.yaml"),
  OMEN_DISABLE_HOST_COLLECTOR: z
    .enum(["0", "1", "true", "false"])
    .default("0")
    .transform((v) => v === "1" || v === "true"),
  OMEN_WORKER_MAX_LAG: z.coerce.number().int().min(1000).default(2_000_000),
  /** How often the worker snapshots its detectors when omen.yaml sets no modelUpdateInterval (ms). */
  OMEN_SNAPSHOT_INTERVAL_MS: z.coerce.number().int().min(1000).max(86_400_000).default(300_000),
  OMEN_MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(32 * 1024 * 1024),
  OMEN_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** Name in the worker's heartbeat (`worker_status`); tests run several workers. */
  OMEN_WORKER_NAME: z.string().trim().min(1).default("worker"),
  /** Profile the worker's CPU until it stops and write the profile to this file (Chrome DevTools format). */
  OMEN_WORKER_CPU_PROFILE: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v ? v : undefined)),
  /** Set by `npm start` for the processes it runs: it has applied the migrations itself. */
  OMEN_SKIP_MIGRATE: z
    .enum(["0", "1", "true", "false"])
    .default("0")
    .transform((v) => v === "1" || v === "true"),
  /** `npm start` without rebuilding the web app (tests that start Omen many times). */
  OMEN_SKIP_BUILD: z
    .enum(["0", "1", "true", "false"])
    .default("0")
    .transform((v) => v === "1" || v === "true"),
  /** Base URL of the web app as users reach it; alert links point here (default http://HOST:PORT). */
  OMEN_PUBLIC_URL: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v ? v : undefined))
    .refine((v) => v === undefined || /^https?:\/\/[^/]/.test(v), { message: "must be an http:// or https:// URL" }),
});

export type TEnv = z.infer<typeof ZEnv> & { dataDir: string };

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses the environment; throws one ConfigError listing every invalid setting. */
export function parseEnv(source: Readonly<Record<string, string | undefined>> = process.env): TEnv {
  const result = ZEnv.safeParse(source);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join(".") || "(env)"}: ${i.message}`);
    throw new ConfigError(`Invalid Omen configuration:\n${lines.join("\n")}`);
  }
  return { ...result.data, dataDir: path.resolve(result.data.OMEN_DATA_DIR) };
}

let cached: TEnv | undefined;
export function env(): TEnv {
  cached ??= parseEnv();
  return cached;
}

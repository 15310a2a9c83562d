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
  /** Samples per scoring round at most (unset: 100,000, or 10,000 on the embedded database). */
  OMEN_WORKER_BATCH: z.preprocess((v) => (v === "" ? undefined : v), z.coerce.number().int().min(1000).max(1_000_000).optional()),
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
  /**
   * Diagnostics (the fuzz test's leak check): on SIGUSR2 the web process runs a full GC and
   * prints its memory use after it (server/web/heap-report.ts). Off: SIGUSR2 keeps Node's default.
   */
  OMEN_HEAP_REPORT_ON_SIGNAL: z
    .enum(["0", "1", "true", "false"])
    .default("0")
    .transform((v) => v === "1" || v === "true"),
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
  /** NATS server with JetStream (e.g. nats://127.0.0.1:4222): the log between ingest and scoring, partitioned across workers (docs/scale-out.md). Unset: the single-worker default. */
  OMEN_NATS_URL: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v ? v : undefined))
    .refine((v) => v === undefined || /^(nats|tls):\/\/[^/]/.test(v), { message: "must be a nats:// or tls:// URL" }),
  /** Prefix of the JetStream stream, subjects and KV bucket (several Omen installations, or tests, can share one NATS). */
  OMEN_NATS_PREFIX: z.string().trim().regex(/^[A-Za-z0-9_-]{1,32}$/, "letters, digits, _ and - only (at most 32)").default("omen"),
  /** Partitions of the stream space (fixed for the life of a NATS stream: changing it needs a fresh prefix). */
  OMEN_PARTITIONS: z.coerce.number().int().min(1).max(1024).default(16),
  /**
   * Scale-out back-pressure: messages of the JetStream sample log not yet delivered to their
   * partition's worker, summed over the partitions, above which ingest answers 503 / 429 with
   * Retry-After (a message is one commit's share of a partition: up to ~52,000 samples).
   */
  OMEN_NATS_MAX_PENDING: z.coerce.number().int().min(1).default(100_000),
  /**
   * Scale-out: how often each partition runner saves its detectors' state (seconds), the point a
   * partition's next owner restores and replays the log from. Serializing costs ~0.5 ms of CPU
   * per stream (docs/scale-out.md "Sizing"), so short intervals make snapshots, not scoring, the
   * work; the bound stays far below the log's 24-h retention, which must still hold every
   * message after a partition's snapshot.
   */
  OMEN_PARTITION_SNAPSHOT_SECONDS: z.coerce.number().int().min(1).max(3600).default(300),
  /** Workers `npm start` runs (each owns a share of the partitions; more than 1 needs OMEN_NATS_URL). */
  OMEN_WORKERS: z.coerce.number().int().min(1).max(64).default(1),
  /** Password of the first admin (user `admin`), created at first start; unset = a one-time set-up link is printed. */
  OMEN_ADMIN_PASSWORD: z
    .string()
    .optional()
    .transform((v) => (v ? v : undefined))
    .refine((v) => v === undefined || v.length >= 8, { message: "must be at least 8 characters" }),
  /** Bearer token with the read scope for scripts (read API, /metrics, tRPC queries). */
  OMEN_API_TOKEN: z
    .string()
    .optional()
    .transform((v) => (v ? v : undefined))
    .refine((v) => v === undefined || v.length >= 16, { message: "must be at least 16 characters" }),
  /** Secret that signs session cookies; unset = generated once and kept in OMEN_DATA_DIR/auth-secret. */
  OMEN_AUTH_SECRET: z
    .string()
    .optional()
    .transform((v) => (v ? v : undefined))
    .refine((v) => v === undefined || v.length >= 32, { message: "must be at least 32 characters" }),
  /**
   * Hosts outbound requests (Prometheus pull sources, webhooks, tests of either) may reach:
   * comma-separated host names, `host:port`, `*.suffix` or CIDR ranges; unset = any host.
   */
  OMEN_OUTBOUND_ALLOW: z
    .string()
    .optional()
    .transform((v) =>
      (v ?? "")
        .split(",")
        .map((x) => x.trim().toLowerCase())
        .filter(Boolean),
    ),
  /** Timeout of one outbound request (ms). */
  OMEN_OUTBOUND_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(10_000),
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

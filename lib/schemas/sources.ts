import { z } from "zod";

/** One PromQL query of a Prometheus pull source; `name` names results that lack __name__. */
export const ZPromQuery = z.object({
  query: z.string().trim().min(1, "enter a PromQL query").max(2000),
  name: z
    .string()
    .trim()
    .regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, "use a Prometheus metric name (letters, digits, _ :)")
    .max(200)
    .optional(),
});

/** User settings of a Prometheus pull source (kept in `source.config`). */
export const ZPromPullSettings = z.object({
  baseUrl: z
    .string()
    .trim()
    .url("enter the Prometheus base URL, e.g. http://prometheus:9090")
    .refine((u) => /^https?:\/\//.test(u), "the URL must start with http:// or https://")
    .transform((u) => u.replace(/\/+$/, "")),
  queries: z.array(ZPromQuery).min(1, "add at least one query").max(50),
  stepSeconds: z.number().int().min(1).max(3600).default(15),
  backfillDays: z.number().min(0).max(30).default(7),
});
export type TPromPullSettings = z.infer<typeof ZPromPullSettings>;

/** Progress the pull job keeps next to the settings. */
export const ZPromPullState = z.object({
  cursorMs: z.number().optional(),
  lastRunMs: z.number().optional(),
  lastError: z.string().nullable().optional(),
  lastSamples: z.number().optional(),
});
export type TPromPullState = z.infer<typeof ZPromPullState>;

export const ZSourceName = z
  .string()
  .trim()
  .regex(/^[a-zA-Z0-9_.:\-]{1,100}$/, "use letters, digits, _ . : - (max 100 characters)");

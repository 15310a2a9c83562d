import { z } from "zod";

/** Most streams one `POST /api/v1/detect` request may score. */
export const DETECT_MAX_STREAMS = 1000;
/** Largest request body (1,000 streams with long keys fit comfortably). */
export const DETECT_MAX_BODY_BYTES = 1024 * 1024;

const ZStreamRef = z
  .object({
    /** Omen's stream id (as in /api/v1/streams). */
    id: z.number().int().positive().optional(),
    /** The stream key, e.g. `http_latency_ms{route="/api"}` (with `source` when several sources have it). */
    key: z.string().min(1).max(4096).optional(),
    source: z.string().min(1).max(256).optional(),
    /** The current value; null = missing now. */
    value: z.number().finite().nullable(),
  })
  .strict()
  .refine((s) => (s.id === undefined) !== (s.key === undefined), { message: "give exactly one of `id` or `key`" });

export const ZDetectRequest = z
  .object({
    /** When the values were observed: epoch ms or an ISO 8601 time; default now. */
    timestamp: z.union([z.number().finite(), z.iso.datetime({ offset: true })]).optional(),
    streams: z.array(ZStreamRef).min(1, "`streams` is empty: send at least one {id or key, value}"),
  })
  .strict();
export type TDetectRequest = z.infer<typeof ZDetectRequest>;

export interface TDetectResult {
  id: number | null;
  key: string | null;
  source: string | null;
  /** "ok", or why the stream could not be scored. */
  status: "ok" | "unknown_stream" | "no_model";
  score: number | null;
  confidence: number | null;
  severity: "low" | "medium" | "high" | null;
  isAnomaly: boolean;
  type: string | null;
  /** On anomalous streams: keys of this request's streams of the same group ranked by contribution, most likely first. */
  causes: string[];
  expected: number | null;
  lower: number | null;
  upper: number | null;
}

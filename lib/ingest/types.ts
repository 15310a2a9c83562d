import type { TLabels, TStreamKind } from "@/lib/schemas/stream";

/** One series as a decoder produces it (structurally the ingest service's `IncomingSeries`). */
export interface DecodedSeries {
  metric: string;
  labels: TLabels;
  kind: TStreamKind;
  group?: string | null;
  unit?: string | null;
  tsMs: number[];
  values: number[];
}

export interface SeriesLimits {
  maxSeriesPerRequest: number;
}

export const DEFAULT_SERIES_LIMITS: SeriesLimits = { maxSeriesPerRequest: 50_000 };

import "server-only";
import { AppError } from "@/lib/errors/app-error";
import { openSeverityByStream } from "../../repos/anomalies-repo";
import { readSeries, readRecentValues } from "../../repos/samples-repo";
import { readRecentScores, readScores } from "../../repos/scores-repo";
import { getStream, listStreams, type ListStreamsFilter } from "../../repos/streams-repo";

const SPARK_WINDOW_MS = 30 * 60_000;
const SPARK_POINTS = 60;

/** Stream list with recent values and scores for sparklines, and the current open severity. */
export async function listStreamsWithSparklines(filter: ListStreamsFilter, nowMs = Date.now()) {
  const streams = await listStreams(filter);
  const ids = streams.map((s) => s.id);
  const [values, scores, severities] = await Promise.all([
    readRecentValues(ids, nowMs - SPARK_WINDOW_MS, SPARK_POINTS),
    readRecentScores(ids, nowMs - SPARK_WINDOW_MS, SPARK_POINTS),
    openSeverityByStream(),
  ]);
  return streams.map((s) => ({
    ...s,
    spark: values.get(s.id) ?? [],
    scoreSpark: scores.get(s.id) ?? [],
    severity: severities.get(s.id) ?? null,
  }));
}

export const RANGES = { "15m": 15 * 60_000, "1h": 3_600_000, "6h": 6 * 3_600_000, "24h": 86_400_000, "7d": 7 * 86_400_000, "30d": 30 * 86_400_000 } as const;
export type TRange = keyof typeof RANGES;

/** Everything the stream page draws: values (downsampled), expected band and scores. */
export async function getStreamDetail(id: number, range: TRange, nowMs = Date.now(), maxPoints = 2000) {
  const stream = await getStream(id);
  if (!stream) throw new AppError("NOT_FOUND", `Stream ${id} does not exist.`);
  const fromMs = nowMs - RANGES[range];
  const [series, scores] = await Promise.all([readSeries(id, fromMs, nowMs, maxPoints), readScores(id, fromMs, nowMs, maxPoints)]);
  return { stream, fromMs, toMs: nowMs, series, scores };
}

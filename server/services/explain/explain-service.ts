import { AppError } from "@/lib/errors/app-error";
import { ATTRIBUTION_DEFAULTS, probableOrigin, rankContributions, type AttributionInput } from "@/lib/explain/attribution";
import { CONTEXT_MS, dependencyEdge, gridOver, GRID_POINTS, MAX_LAG_MS, onGrid } from "@/lib/explain/dependency";
import { causalTimeline, leadLag, type TimelineEntry } from "@/lib/explain/lead-lag";
import { getAnomaly } from "../../repos/anomalies-repo";
import { groupAnomaliesStarting } from "../../repos/explain-repo";
import { historySpan } from "@/lib/explain/cause-ranking";
import { counterBucketRatesSorted, gaugeBucketMeansSorted, groupScoreMinutes, type StreamGroup } from "../../repos/storage/minute-reads";
import { readSeries } from "../../repos/storage/samples";
import { getStream } from "../../repos/streams-repo";
import { configuredBandSigmas } from "../config/config-service";

const LOOKBACK_MS = 30 * 60_000;
const MAX_RELATED = 12;
/** Streams of a group read for attribution (the highest-scoring in the hours around onset). */
const MAX_CANDIDATES = 200;
/** Causes returned (and measured for lead–lag). */
const MAX_CAUSES = 12;

export interface CausalEdge {
  from: number;
  to: number;
  lagSec: number;
  correlation: number;
}

/** Values of several streams on one shared bucket grid (NaN where a stream has no data). */
async function alignedSeries(streamIds: number[], fromMs: number, toMs: number) {
  const grid = gridOver(fromMs, toMs);
  const out = new Map<number, Float64Array>();
  await Promise.all(streamIds.map(async (id) => out.set(id, onGrid(grid, await readSeries(id, fromMs, toMs, GRID_POINTS)))));
  return { grid, series: out };
}

/**
 * Why did this anomaly happen? Works within the anomalous stream's group (its source and group
 * label: a host, a Prometheus job, an uploaded table) and the hours around the onset:
 * - ranked causes: every stream of the group scored then, ranked as the CLI's `causes` column and
 *   the evaluation rank them (`lib/explain/cause-ranking.ts` through `lib/explain/attribution`):
 *   each stream's largest score-plus-forecast-deviation, plus how far its value left the range
 *   it kept over the week before (its five-minute means from the rollup), from 30 minutes
 *   before onset to the event's end, who rose first and then lead–lag against the anomalous
 *   stream breaking ties;
 * - a causal timeline of the group's anomalies that opened from 30 minutes before to the end,
 *   with lead–lag coupling (null correlation = not enough data to compute one);
 * - the probable origin (another stream that carries the event and rose no later; null when
 *   the anomalous stream is its own best explanation) and lagged-correlation edges.
 */
export async function explainAnomaly(anomalyId: string) {
  const anomaly = await getAnomaly(anomalyId);
  if (!anomaly) throw new AppError("NOT_FOUND", `Anomaly ${anomalyId} does not exist.`);
  const stream = await getStream(anomaly.streamId);
  const group: StreamGroup = { sourceId: stream?.sourceId ?? -1, group: stream?.group ?? null };
  const also = [...new Set([anomaly.streamId, ...anomaly.streamIds])];
  const onset = anomaly.startMs;
  const endMs = anomaly.endMs ?? (await openAnomalyEnd(stream?.lastSampleAtMs ?? null, onset));

  const lookbackMs = ATTRIBUTION_DEFAULTS.lookbackMs;
  const [scored, related, bandSigmas] = await Promise.all([
    groupScoreMinutes(group, also, onset - lookbackMs, endMs + 60_000, MAX_CANDIDATES),
    groupAnomaliesStarting(group, also, onset - LOOKBACK_MS, endMs, anomaly.id, MAX_RELATED),
    configuredBandSigmas(),
  ]);
  const firstByStream = new Map<number, (typeof related)[number]>();
  for (const r of related) {
    if (r.streamId === anomaly.streamId) continue;
    const prev = firstByStream.get(r.streamId);
    if (!prev || r.startMs < prev.startMs) firstByStream.set(r.streamId, r);
  }
  const keys = new Map<number, string>([[anomaly.streamId, anomaly.streamKey]]);
  for (const s of scored) keys.set(s.streamId, s.key);
  for (const [id, r] of firstByStream) keys.set(id, r.key);

  const span = historySpan(onset, lookbackMs);
  const scoredIds = scored.map((s) => s.streamId);
  // a gauge's reference is its values, a counter's its rates (what the ranking takes of it)
  const [gauges, counters] = await Promise.all([
    gaugeBucketMeansSorted(scoredIds, span.fromMs, span.toMs, span.bucketMs),
    counterBucketRatesSorted(scoredIds, span.fromMs, span.toMs, span.bucketMs),
  ]);
  const history = new Map([...gauges, ...counters]);
  // First pass finds who carries evidence; lead–lag is measured only for those (and the timeline).
  const inputs: AttributionInput[] = scored.map((s) => ({
    streamId: s.streamId,
    points: s.points.map((p) => ({ t: p.t, score: p.score, value: p.value, expected: p.expected, sigma: (p.upper - p.expected) / bandSigmas })),
    history: history.get(s.streamId) ?? new Float64Array(0),
  }));
  if (!inputs.some((i) => i.streamId === anomaly.streamId)) inputs.push({ streamId: anomaly.streamId, points: [] });
  // the ranking as of the event's end (an open one: its newest sample), like the evaluation's at
  // the event's last alarm row
  const window = { onsetMs: onset, toMs: endMs };
  const firstPass = rankContributions(inputs, window).filter((c) => c.share > 0 || c.streamId === anomaly.streamId);
  const measured = [...new Set([anomaly.streamId, ...firstPass.slice(0, MAX_CAUSES).map((c) => c.streamId), ...firstByStream.keys()])];
  const { grid, series } = await alignedSeries(measured, onset - CONTEXT_MS, endMs + 10 * 60_000);
  const { bucketMs } = grid;
  const ref = series.get(anomaly.streamId)!;
  const maxLag = Math.max(1, Math.round(MAX_LAG_MS / bucketMs));
  const coupling = new Map<number, { lagSec: number | null; correlation: number | null }>();
  for (const id of measured) {
    if (id === anomaly.streamId) continue;
    // leadLag(candidate, reference): positive lag = the candidate moved first.
    const ll = leadLag(series.get(id)!, ref, maxLag);
    coupling.set(id, ll.correlation === null ? { lagSec: null, correlation: null } : { lagSec: (ll.lag * bucketMs) / 1000, correlation: round(ll.correlation) });
  }

  const ranked = rankContributions(
    inputs.map((i) => ({ ...i, leadSec: coupling.get(i.streamId)?.lagSec ?? null })),
    window,
  );
  const originStreamId = probableOrigin(ranked, anomaly.streamId, onset);
  const causes = ranked
    .filter((c) => c.share > 0 || c.streamId === anomaly.streamId)
    .slice(0, MAX_CAUSES)
    .map((c) => ({
      streamId: c.streamId,
      key: keys.get(c.streamId) ?? String(c.streamId),
      rank: c.rank,
      share: round(c.share),
      peakScore: Number.isFinite(c.peakScore) ? round(c.peakScore) : null,
      /** When it first rose above its usual level, seconds relative to this anomaly's onset. */
      offsetSec: c.firstExceedMs === null ? null : Math.round((c.firstExceedMs - onset) / 1000),
      lagSec: c.streamId === anomaly.streamId ? 0 : (coupling.get(c.streamId)?.lagSec ?? null),
      correlation: c.streamId === anomaly.streamId ? 1 : (coupling.get(c.streamId)?.correlation ?? null),
      isReference: c.streamId === anomaly.streamId,
      anomalyId: c.streamId === anomaly.streamId ? anomaly.id : (firstByStream.get(c.streamId)?.anomalyId ?? null),
    }));

  const entries: Omit<TimelineEntry, "offsetSec">[] = [
    { streamId: anomaly.streamId, onsetMs: onset, peakScore: anomaly.peakScore, lagSec: 0, correlation: 1 },
  ];
  for (const [id, r] of firstByStream) {
    const c = coupling.get(id);
    entries.push({ streamId: id, onsetMs: r.startMs, peakScore: r.peakScore, lagSec: c?.lagSec ?? null, correlation: c?.correlation ?? null });
  }
  const { timeline } = causalTimeline(onset, entries);

  const ids = [anomaly.streamId, ...firstByStream.keys()];
  const edges: CausalEdge[] = [];
  for (let i = 0; i < ids.length; i++) {
    for (let j = i + 1; j < ids.length; j++) {
      const x = ids[i]!;
      const y = ids[j]!;
      const edge = dependencyEdge(series.get(x)!, series.get(y)!, grid);
      if (!edge) continue;
      const [from, to] = edge.leader === "x" ? [x, y] : [y, x];
      edges.push({ from, to, lagSec: edge.lagSec, correlation: edge.correlation });
    }
  }
  return {
    anomalyId: anomaly.id,
    referenceStreamId: anomaly.streamId,
    originStreamId,
    group: { source: stream?.sourceName ?? null, group: group.group, streamsScored: scored.length },
    window: { fromMs: onset - lookbackMs, toMs: endMs },
    causes,
    timeline: timeline.map((e) => ({
      ...e,
      lagSec: e.lagSec ?? null,
      correlation: e.correlation ?? null,
      key: keys.get(e.streamId) ?? String(e.streamId),
      anomalyId: e.streamId === anomaly.streamId ? anomaly.id : (firstByStream.get(e.streamId)?.anomalyId ?? null),
      severity: e.streamId === anomaly.streamId ? anomaly.severity : (firstByStream.get(e.streamId)?.severity ?? null),
    })),
    edges: edges.map((e) => ({ ...e, fromKey: keys.get(e.from) ?? "", toKey: keys.get(e.to) ?? "" })),
  };
}

/**
 * Where an open anomaly ends for the purpose of explaining it: at its stream's newest sample.
 * The wall clock would stretch the window over any time the data has not reached (imported
 * history, a stopped sender), diluting every correlation into coarse buckets.
 */
function openAnomalyEnd(lastSampleMs: number | null, startMs: number): number {
  return lastSampleMs !== null && lastSampleMs >= startMs ? lastSampleMs : startMs;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

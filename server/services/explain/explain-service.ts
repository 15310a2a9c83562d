import { AppError } from "@/lib/errors/app-error";
import { causalTimeline, leadLag, type TimelineEntry } from "@/lib/explain/lead-lag";
import { getAnomaly } from "../../repos/anomalies-repo";
import { anomaliesOverlapping } from "../../repos/explain-repo";
import { readSeries } from "../../repos/samples-repo";
import { getStream } from "../../repos/streams-repo";

const LOOKBACK_MS = 30 * 60_000;
const CONTEXT_MS = 2 * 3_600_000;
const POINTS = 240;
const MAX_RELATED = 12;
const EDGE_MIN_CORRELATION = 0.5;

export interface CausalEdge {
  from: number;
  to: number;
  lagSec: number;
  correlation: number;
}

/** Values of several streams on one shared bucket grid (NaN where a stream has no data). */
async function alignedSeries(streamIds: number[], fromMs: number, toMs: number) {
  const bucketMs = Math.max(1000, Math.ceil((toMs - fromMs) / POINTS / 1000) * 1000);
  const n = Math.ceil((toMs - fromMs) / bucketMs) + 1;
  const base = Math.floor(fromMs / bucketMs) * bucketMs;
  const out = new Map<number, Float64Array>();
  await Promise.all(
    streamIds.map(async (id) => {
      const arr = new Float64Array(n).fill(Number.NaN);
      for (const p of await readSeries(id, fromMs, toMs, POINTS)) {
        const k = Math.round((p.t - base) / bucketMs);
        if (k >= 0 && k < n && p.v !== null) arr[k] = p.v;
      }
      out.set(id, arr);
    }),
  );
  return { bucketMs, series: out };
}

/**
 * Why did this anomaly happen? Gathers anomalies on other streams that started up to 30 min
 * before it (or during it), measures lead–lag coupling of each with the anomalous stream over
 * the surrounding two hours, orders them into a causal timeline, names the probable origin and
 * returns the lagged-correlation edges between involved streams as a small dependency graph.
 */
export async function explainAnomaly(anomalyId: string) {
  const anomaly = await getAnomaly(anomalyId);
  if (!anomaly) throw new AppError("NOT_FOUND", `Anomaly ${anomalyId} does not exist.`);
  const endMs = anomaly.endMs ?? (await openAnomalyEnd(anomaly.streamId, anomaly.startMs));
  const related = await anomaliesOverlapping(anomaly.startMs - LOOKBACK_MS, endMs, anomaly.id, MAX_RELATED);
  const firstByStream = new Map<number, (typeof related)[number]>();
  for (const r of related) {
    if (r.streamId === anomaly.streamId) continue;
    const prev = firstByStream.get(r.streamId);
    if (!prev || r.startMs < prev.startMs) firstByStream.set(r.streamId, r);
  }
  const ids = [anomaly.streamId, ...firstByStream.keys()];
  const { bucketMs, series } = await alignedSeries(ids, anomaly.startMs - CONTEXT_MS, endMs + 10 * 60_000);
  const ref = series.get(anomaly.streamId)!;
  const maxLag = Math.max(1, Math.round(LOOKBACK_MS / bucketMs));

  const entries: Omit<TimelineEntry, "offsetSec">[] = [
    { streamId: anomaly.streamId, onsetMs: anomaly.startMs, peakScore: anomaly.peakScore, lagSec: 0, correlation: 1 },
  ];
  for (const [id, r] of firstByStream) {
    // leadLag(candidate, reference): positive lag = the candidate moved first.
    const ll = leadLag(series.get(id)!, ref, maxLag);
    entries.push({ streamId: id, onsetMs: r.startMs, peakScore: r.peakScore, lagSec: (ll.lag * bucketMs) / 1000, correlation: round(ll.correlation) });
  }
  const { timeline, originStreamId } = causalTimeline(anomaly.startMs, entries);

  const edges: CausalEdge[] = [];
  for (let i = 0; i < ids.length; i++) {
    for (let j = i + 1; j < ids.length; j++) {
      const a = ids[i]!;
      const b = ids[j]!;
      const ll = leadLag(series.get(a)!, series.get(b)!, maxLag);
      if (Math.abs(ll.correlation) < EDGE_MIN_CORRELATION) continue;
      const [from, to] = ll.lag >= 0 ? [a, b] : [b, a];
      edges.push({ from, to, lagSec: (Math.abs(ll.lag) * bucketMs) / 1000, correlation: round(ll.correlation) });
    }
  }
  const keys = new Map<number, string>([[anomaly.streamId, anomaly.streamKey], ...[...firstByStream].map(([id, r]) => [id, r.key] as [number, string])]);
  const related2 = new Map([...firstByStream].map(([id, r]) => [id, r]));
  return {
    anomalyId: anomaly.id,
    referenceStreamId: anomaly.streamId,
    originStreamId,
    timeline: timeline.map((e) => ({
      ...e,
      key: keys.get(e.streamId) ?? String(e.streamId),
      anomalyId: e.streamId === anomaly.streamId ? anomaly.id : (related2.get(e.streamId)?.anomalyId ?? null),
      severity: e.streamId === anomaly.streamId ? anomaly.severity : (related2.get(e.streamId)?.severity ?? null),
    })),
    edges: edges.map((e) => ({ ...e, fromKey: keys.get(e.from) ?? "", toKey: keys.get(e.to) ?? "" })),
  };
}

/**
 * Where an open anomaly ends for the purpose of explaining it: at its stream's newest sample.
 * The wall clock would stretch the window over any time the data has not reached (imported
 * history, a stopped sender), diluting every correlation into coarse buckets.
 */
async function openAnomalyEnd(streamId: number, startMs: number): Promise<number> {
  const last = (await getStream(streamId))?.lastSampleAtMs ?? null;
  return last !== null && last >= startMs ? last : startMs;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

import { AppError } from "@/lib/errors/app-error";
import { ZPromPullSettings, ZPromPullState, type TPromPullSettings, type TPromPullState } from "@/lib/schemas/sources";
import { listSources, updateSourceConfig, type SourceRow } from "../../repos/sources-repo";
import { ingestSeries, type IncomingSeries } from "../ingest/ingest-service";
import { MAX_POINTS_PER_SERIES, queryRange, type PromMatrixSeries } from "./prometheus-client";

/**
 * Prometheus pull: for each enabled `prometheus_pull` source, backfill history with
 * query_range in time-ordered chunks (≤ 10,000 points per series, under Prometheus' 11,000 limit)
 * starting `backfillDays` ago, then follow live one step at a time. The cursor is saved after
 * each committed chunk, so a restart resumes where it stopped; re-pulled samples are idempotent.
 */
export interface PullRunResult {
  source: string;
  chunks: number;
  samples: number;
  error?: string;
}

const POINTS_PER_CHUNK = Math.min(10_000, MAX_POINTS_PER_SERIES - 1);

function toSeries(query: TPromPullSettings["queries"][number], result: PromMatrixSeries[], skipped: { n: number }): IncomingSeries[] {
  const fallback = query.name ?? (query.query.replace(/[^a-zA-Z0-9_:]+/g, "_").replace(/^[^a-zA-Z_:]+/, "").slice(0, 120) || "promql");
  const out: IncomingSeries[] = [];
  for (const r of result) {
    const { __name__: name, ...labels } = r.metric;
    const tsMs: number[] = [];
    const values: number[] = [];
    for (const [t, v] of r.values) {
      const x = Number(v);
      if (!Number.isFinite(x)) {
        skipped.n++; // NaN/±Inf from PromQL (e.g. 0/0) are absent values, not errors
        continue;
      }
      tsMs.push(Math.round(t * 1000));
      values.push(x);
    }
    if (tsMs.length) out.push({ metric: query.name ?? name ?? fallback, labels, kind: "gauge", group: "prometheus", tsMs, values });
  }
  return out;
}

/** Pulls up to `maxChunks` chunks for one source; returns what it stored. */
export async function pullSource(source: SourceRow, nowMs: number, maxChunks = 4): Promise<PullRunResult> {
  const settings = ZPromPullSettings.parse(source.config);
  const state: TPromPullState = ZPromPullState.parse(source.config);
  const stepMs = settings.stepSeconds * 1000;
  const end = Math.floor((nowMs - stepMs) / stepMs) * stepMs;
  let start = state.cursorMs !== undefined ? state.cursorMs + stepMs : Math.floor((nowMs - settings.backfillDays * 86_400_000) / stepMs) * stepMs;
  let chunks = 0;
  let samples = 0;
  const skipped = { n: 0 };
  try {
    while (start <= end && chunks < maxChunks) {
      const chunkEnd = Math.min(end, start + (POINTS_PER_CHUNK - 1) * stepMs);
      const batch: IncomingSeries[] = [];
      for (const q of settings.queries) batch.push(...toSeries(q, await queryRange(settings.baseUrl, q.query, start, chunkEnd, settings.stepSeconds), skipped));
      if (batch.length) samples += (await ingestSeries(source.name, "prometheus_pull", batch, nowMs)).inserted;
      await saveState(source, { cursorMs: chunkEnd, lastRunMs: nowMs, lastError: null, lastSamples: samples });
      source.config = { ...source.config, cursorMs: chunkEnd };
      start = chunkEnd + stepMs;
      chunks++;
    }
    return { source: source.name, chunks, samples };
  } catch (e) {
    const error = e instanceof AppError || e instanceof Error ? e.message : String(e);
    await saveState(source, { ...state, cursorMs: (source.config as TPromPullState).cursorMs, lastRunMs: nowMs, lastError: error });
    return { source: source.name, chunks, samples, error };
  }
}

async function saveState(source: SourceRow, state: TPromPullState): Promise<void> {
  // a key left undefined (no cursor yet when the very first pull fails) is no JSON value: stored
  // as is it failed validation, so the first error was never recorded and the job threw instead
  const defined = Object.fromEntries(Object.entries(state).filter(([, v]) => v !== undefined));
  await updateSourceConfig(source.id, { config: { ...source.config, ...defined } });
}

/** One round over every enabled Prometheus pull source. */
export async function pullAllSources(nowMs: number, maxChunks = 4): Promise<PullRunResult[]> {
  const sources = (await listSources()).filter((s) => s.kind === "prometheus_pull" && s.enabled);
  const out: PullRunResult[] = [];
  for (const s of sources) out.push(await pullSource(s, nowMs, maxChunks));
  return out;
}

import { AppError } from "@/lib/errors/app-error";
import { rankContributions, type ScorePoint } from "@/lib/explain/attribution";
import { DETECT_MAX_STREAMS, type TDetectRequest, type TDetectResult } from "@/lib/schemas/detect";
import { processGlobal } from "../../process-global";
import { findStreamRefs, type StreamRef } from "../../repos/streams-repo";
import type { TProbeResult } from "./probe-wire";
import { probeWorker } from "./worker-probe";

/** Values stamped further ahead than this are refused (a clock error, not "now"). */
const MAX_FUTURE_MS = 5 * 60_000;
const MAX_CAUSES = 5;
const MIN_OF_TOP = 0.5;
/** How long a resolved stream id/key is trusted without asking the database again. */
const REF_TTL_MS = 60_000;

/**
 * Resolved streams by id and by key (a key may name streams of several sources). A scorer
 * calling every few seconds with the same streams then costs no database round trip; misses
 * (new or unknown streams) are always looked up.
 */
const refCache = processGlobal("detect-stream-refs", () => ({ atMs: 0, byId: new Map<number, StreamRef>(), byKey: new Map<string, StreamRef[]>() }));

async function resolveRefs(ids: number[], keys: string[], nowMs: number): Promise<StreamRef[]> {
  if (nowMs - refCache.atMs > REF_TTL_MS) {
    refCache.atMs = nowMs;
    refCache.byId.clear();
    refCache.byKey.clear();
  }
  const missIds = ids.filter((id) => !refCache.byId.has(id));
  const missKeys = keys.filter((k) => !refCache.byKey.has(k));
  if (missIds.length || missKeys.length) {
    const found = await findStreamRefs(missIds, missKeys);
    for (const k of missKeys) refCache.byKey.set(k, []);
    for (const r of found) {
      refCache.byId.set(r.id, r);
      const list = refCache.byKey.get(r.key);
      if (list && !list.some((x) => x.id === r.id)) list.push(r);
    }
    // unknown keys are not remembered as unknown for long: a stream may be created any moment
    for (const k of missKeys) if (refCache.byKey.get(k)!.length === 0) refCache.byKey.delete(k);
  }
  const out = new Map<number, StreamRef>();
  for (const id of ids) {
    const r = refCache.byId.get(id);
    if (r) out.set(r.id, r);
  }
  for (const k of keys) for (const r of refCache.byKey.get(k) ?? []) out.set(r.id, r);
  return [...out.values()];
}

/**
 * The scored point as the cause ranking takes it: a gauge's value, a counter's rate (its model
 * forecasts the rate; the probe takes it against the model's last reading). The probe's sigma
 * comes from the worker's engine, whatever band width is configured (null when the model is not
 * yet trusted: the score alone then counts).
 */
function pointOf(ref: StreamRef, p: TProbeResult | undefined, value: number | null | undefined): ScorePoint[] {
  if (!p) return [];
  const x = ref.kind === "gauge" ? value : ref.kind === "counter" ? p.rate : null;
  const known = x !== null && x !== undefined && p.expected !== null && p.sigma !== null;
  return [{ t: p.tsMs, score: p.score, ...(known ? { value: x, expected: p.expected!, sigma: p.sigma! } : {}) }];
}

/**
 * Real-time scoring: the current values of up to 1,000 streams, scored by the live models in
 * the worker on copies of their state (the worker's detection and its models are unaffected),
 * with the causes of each anomalous value among the request's streams of the same group.
 */
export async function detectNow(req: TDetectRequest, nowMs = Date.now()): Promise<{ scoredAtMs: number; results: TDetectResult[]; timingMs: { lookup: number; score: number } }> {
  const t0 = performance.now();
  if (req.streams.length > DETECT_MAX_STREAMS) {
    throw new AppError("PAYLOAD_TOO_LARGE", `At most ${DETECT_MAX_STREAMS} streams per request (got ${req.streams.length}); split the request.`);
  }
  const tsMs = req.timestamp === undefined ? nowMs : typeof req.timestamp === "number" ? req.timestamp : Date.parse(req.timestamp);
  if (tsMs > nowMs + MAX_FUTURE_MS) throw new AppError("BAD_REQUEST", `\`timestamp\` ${new Date(tsMs).toISOString()} is in the future; send the time the values were observed (or omit it for now).`);

  const refs = await resolveRefs(
    req.streams.flatMap((s) => (s.id !== undefined ? [s.id] : [])),
    req.streams.flatMap((s) => (s.key !== undefined ? [s.key] : [])),
    Date.now(),
  );
  const byId = new Map(refs.map((r) => [r.id, r]));
  const resolved: (StreamRef | null)[] = req.streams.map((s, i) => {
    if (s.id !== undefined) return byId.get(s.id) ?? null;
    const matches = refs.filter((r) => r.key === s.key && (s.source === undefined || r.sourceName === s.source));
    if (matches.length > 1) {
      throw new AppError("BAD_REQUEST", `streams[${i}]: key ${JSON.stringify(s.key)} exists in several sources (${matches.map((m) => m.sourceName).join(", ")}); add \`source\` or use \`id\`.`);
    }
    return matches[0] ?? null;
  });
  const seen = new Map<number, number>();
  resolved.forEach((r, i) => {
    if (!r) return;
    const j = seen.get(r.id);
    if (j !== undefined) throw new AppError("BAD_REQUEST", `streams[${j}] and streams[${i}] are the same stream (${r.key}); send each stream once.`);
    seen.set(r.id, i);
  });

  const t1 = performance.now();
  const known = resolved.flatMap((r, i) => (r ? [{ ref: r, value: req.streams[i]!.value }] : []));
  const probed = known.length ? await probeWorker({ tsMs, ids: known.map((k) => k.ref.id), values: known.map((k) => k.value) }) : [];
  const scores = new Map(probed.map((p) => [p.streamId, p]));
  const scoredAtMs = probed[0]?.tsMs ?? tsMs;
  const t2 = performance.now();

  // causes: within each group of the request (same source and group label), ranked like the
  // CLI's `causes` column (lib/explain/cause-ranking.ts through rankContributions) on this one
  // point: each stream's score plus its deviation from the forecast in forecast sigmas (a
  // counter's: of its rate)
  const groups = new Map<string, StreamRef[]>();
  for (const { ref } of known) {
    const g = `${ref.sourceId}\u0000${ref.group ?? ""}`;
    const list = groups.get(g) ?? [];
    list.push(ref);
    groups.set(g, list);
  }
  const values = new Map(known.map((k) => [k.ref.id, k.value]));
  const causesOf = new Map<number, string[]>();
  for (const members of groups.values()) {
    const ranked = rankContributions(
      members.map((m) => ({ streamId: m.id, points: pointOf(m, scores.get(m.id), values.get(m.id)) })),
      { onsetMs: scoredAtMs, lookbackMs: 0 },
    );
    // named: the streams that carry at least half the top stream's evidence (a calm stream's
    // noise has some evidence too, but does not explain anything)
    const top = ranked[0]?.evidence ?? 0;
    const keys = ranked.filter((c) => c.evidence > 0 && c.evidence >= MIN_OF_TOP * top).slice(0, MAX_CAUSES).map((c) => byId.get(c.streamId)?.key ?? members.find((m) => m.id === c.streamId)!.key);
    for (const m of members) causesOf.set(m.id, keys);
  }

  const results = req.streams.map((s, i): TDetectResult => {
    const ref = resolved[i];
    const p = ref ? scores.get(ref.id) : undefined;
    const base = { id: ref?.id ?? s.id ?? null, key: ref?.key ?? s.key ?? null, source: ref?.sourceName ?? s.source ?? null };
    if (!ref || !p) {
      return { ...base, status: ref ? "no_model" : "unknown_stream", score: null, confidence: null, severity: null, isAnomaly: false, type: null, causes: [], expected: null, lower: null, upper: null };
    }
    return {
      ...base,
      status: "ok",
      score: Math.round(p.score * 100) / 100,
      confidence: Math.round(p.confidence * 1000) / 1000,
      severity: p.severity,
      isAnomaly: p.isAnomaly,
      type: p.type,
      causes: p.isAnomaly ? (causesOf.get(ref.id) ?? []) : [],
      expected: p.expected,
      lower: p.lower,
      upper: p.upper,
    };
  });
  return { scoredAtMs, results, timingMs: { lookup: t1 - t0, score: t2 - t1 } };
}

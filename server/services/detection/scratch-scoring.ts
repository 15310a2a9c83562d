/**
 * Scores that leave the live models as they were: a probe of current values and late samples,
 * both scored on a scratch copy of their streams' models (`DetectionEngine.extract`) that is
 * dropped afterwards.
 */
import type { EnginePort, ProbeResult } from "@/lib/detectors/engine-port";
import { counterRate } from "@/lib/explain/cause-ranking";
import type { ClockDomain } from "./clock-domains";
import { MIN_BAND_CONFIDENCE } from "./step-scores";

/** Receives one late sample's score (see `scoreLate`). */
export type LateScoreSink = (row: number, score: number, confidence: number, expected: number, lower: number, upper: number) => void;

/** An engine that can score late samples (the adapter; test doubles of `EnginePort` need not). */
export interface LateScoring {
  scoreLate(domain: number, stepMs: number, ids: Int32Array, values: Float64Array, groupEnds: readonly number[], out: LateScoreSink): void;
}

export function canScoreLate(e: EnginePort): e is EnginePort & LateScoring {
  return typeof (e as Partial<LateScoring>).scoreLate === "function";
}

/** `EnginePort.probe` over the clock domains (`domainOfId`: each known stream's domain). */
export function probeDomains(domains: readonly ClockDomain[], domainOfId: ReadonlyMap<number, number>, tsMs: number, ids: readonly number[], values: Float64Array): ProbeResult[] {
  const byDomain = new Map<number, number[]>();
  ids.forEach((id, k) => {
    const d = domainOfId.get(id);
    if (d === undefined) return;
    let ks = byDomain.get(d);
    if (!ks) byDomain.set(d, (ks = []));
    ks.push(k);
  });
  const out: ProbeResult[] = [];
  for (const [d, ks] of byDomain) {
    const { engine, last } = domains[d]!;
    const sids = ks.map((k) => String(ids[k]!));
    const copy = engine.extract(sids);
    // a model cannot step back in time: a value older than its clock is scored as its next point
    const t = Number.isFinite(last) && last > tsMs ? last : tsMs;
    // a counter's rate, taken before the step moves its last reading on (cause ranking ranks it)
    const rates = ks.map((k, j) => {
      const r = copy.lastCounterReading(sids[j]!);
      return r ? counterRate(r.value, r.tMs, values[k]!, t) : Number.NaN;
    });
    const res = copy.step(t, sids, Float64Array.from(ks, (k) => values[k]!));
    ks.forEach((k, j) => {
      const slot = copy.streamIndex(sids[j]!);
      if (slot < 0) return;
      const trusted = res.confidence[slot]! >= MIN_BAND_CONFIDENCE;
      const anomalous = res.isAnomaly[slot] === 1;
      const num = (x: number) => (trusted && Number.isFinite(x) ? x : null);
      out.push({
        streamId: ids[k]!,
        tsMs: t,
        score: Number.isFinite(res.score[slot]!) ? res.score[slot]! : 0,
        confidence: Number.isFinite(res.confidence[slot]!) ? res.confidence[slot]! : 0,
        isAnomaly: anomalous,
        severity: res.severity[slot] ?? null,
        type: res.type[slot] ?? (anomalous ? "point" : null),
        expected: num(res.expected[slot]!),
        lower: num(res.lower[slot]!),
        upper: num(res.upper[slot]!),
        sigma: num((res.upper[slot]! - res.expected[slot]!) / copy.options.bandZ),
        rate: Number.isFinite(rates[j]!) ? rates[j]! : null,
      });
    });
  }
  return out;
}

/**
 * Late samples of clock domain `d`, which has stepped past them: scored on a copy of their
 * streams' models, stepped through them in the given order (time order: the copy learns from
 * each before the next), one copy step per group (`groupEnds[g]` ends group g; a stream occurs
 * at most once in a group). The copy steps on from the domain's clock by `stepMs` per group,
 * since a model cannot step back in time. `out` receives row k's score (bands NaN while not
 * trusted); rows of streams the engine does not have are left out. `sid` is the engine's id of
 * a database id.
 */
export function scoreLateOnCopy(d: ClockDomain, sid: (id: number) => string, stepMs: number, ids: Int32Array, values: Float64Array, groupEnds: readonly number[], out: LateScoreSink): void {
  const sids = new Set<string>();
  const n = groupEnds[groupEnds.length - 1]!;
  for (let k = 0; k < n; k++) sids.add(sid(ids[k]!));
  const copy = d.engine.extract([...sids]);
  let t = Number.isFinite(d.last) ? d.last : 0;
  let from = 0;
  for (const end of groupEnds) {
    t += stepMs;
    const group = new Array<string>(end - from);
    for (let k = from; k < end; k++) group[k - from] = sid(ids[k]!);
    const res = copy.step(t, group, values.subarray(from, end));
    for (let k = from; k < end; k++) {
      const slot = copy.streamIndex(group[k - from]!);
      if (slot < 0) continue;
      const conf = res.confidence[slot]!;
      const trusted = conf >= MIN_BAND_CONFIDENCE;
      out(k, res.score[slot]!, conf, trusted ? res.expected[slot]! : Number.NaN, trusted ? res.lower[slot]! : Number.NaN, trusted ? res.upper[slot]! : Number.NaN);
    }
    from = end;
  }
}

import { describe, expect, it } from "vitest";
import { countPredictions, countSlowIncidents, explainEvent, rankingAtOnset, summariseExplanations, summarisePredictions } from "./insight-metrics";

const MIN = 60_000;

describe("explanation metrics", () => {
  const streams = ["a", "b", "c", "d"];
  // rows × streams contributions; rows 1–3 are the event, rows 1 and 3 flagged
  const contrib = Float32Array.from(
    [
      [0, 0, 0, 0],
      [0.25, 1.5, 0.125, 0],
      [3, 3, 3, 3],
      [0.125, 0.5, 2, 0.125],
    ].flat(),
  );
  const flagged = [0, 1, 0, 1];

  const ts = [0, 10, 20, 30].map((m) => m * MIN);

  it("ranks by the largest contribution from the lookback before the first alarm row to the last", () => {
    // lookback 0: rows 1–3 (row 2 lies between two alarm rows: the anomaly is still being ranked)
    const e = explainEvent(streams, contrib, flagged, { rows: [1, 3], streams: ["c", "a"] }, ts, 0);
    expect(e.ranked).toEqual(["a", "b", "c", "d"]); // all at 3: table order
    const onlyLast = explainEvent(streams, contrib, [0, 0, 0, 1], { rows: [1, 3], streams: ["c", "a"] }, ts, 0);
    expect(onlyLast.ranked).toEqual(["c", "b", "a", "d"]);
    expect(onlyLast.hitRate100).toBe(0.5); // top 2: c, b
    expect(onlyLast.hitRate150).toBe(1); // top 3: c, b, a
    expect(onlyLast.topCauseLabelled).toBe(true);
    // a 10-minute lookback from the alarm at row 3 reaches back to row 2, before the event's
    // alarm but in the past at the time of the ranking
    const withLookback = explainEvent(streams, contrib, [0, 0, 0, 1], { rows: [3, 3], streams: ["c"] }, ts, 10 * MIN);
    expect(withLookback.ranked).toEqual(["a", "b", "c", "d"]);
  });

  it("with the values, adds each stream's range part against its week before the lookback", () => {
    // 5-minute rows: a week of history, then one alarm row on which a and b contribute alike by
    // score and forecast; a is at the edge of its usual swing, b far outside its steady level
    const week = 7 * 288;
    const rows = week + 1;
    const t = Array.from({ length: rows }, (_, r) => r * 5 * MIN);
    const c = new Float32Array(rows * 2);
    const v = new Float64Array(rows * 2);
    for (let r = 0; r < week; r++) {
      v[r * 2] = Math.sin((2 * Math.PI * r) / 288);
      v[r * 2 + 1] = 5 + 0.01 * Math.sin(r);
    }
    c.set([1.5, 1.5], week * 2);
    v.set([1, 6], week * 2);
    const fl = Array.from({ length: rows }, (_, r) => (r === week ? 1 : 0));
    const ev = { rows: [week, week] as const, streams: ["b"] };
    expect(explainEvent(["a", "b"], c, fl, ev, t, 0).ranked).toEqual(["a", "b"]);
    const withRange = explainEvent(["a", "b"], c, fl, ev, t, 0, v);
    expect(withRange.ranked).toEqual(["b", "a"]);
    expect(withRange.topCauseLabelled).toBe(true);
  });

  it("takes the CLI's causes at the first alarm row as the ranking at onset", () => {
    const causes = [[], ["b", "a"], [], ["c"]];
    expect(rankingAtOnset(causes, flagged, [1, 3])).toEqual(["b", "a"]);
    expect(rankingAtOnset(causes, flagged, [2, 2])).toBeNull();
  });

  it("an event without an alarm is unexplained: left out of the means, 0 in the all-events figure", () => {
    const hit = explainEvent(streams, contrib, [0, 0, 0, 1], { rows: [1, 3], streams: ["c"] }, ts, 0);
    const miss = explainEvent(streams, contrib, flagged, { rows: [0, 0], streams: ["a"] }, ts, 0);
    expect(miss.explained).toBe(false);
    const s = summariseExplanations([hit, miss]);
    expect(s).toMatchObject({ events: 2, eventsExplained: 1, hitRate150: 1, topCauseLabelled: 1, hitRate150AllEvents: 0.5 });
  });
});

describe("prediction metrics", () => {
  // 1-minute rows over 10 h; anomalies at 180–200 min and 400–420 min
  const ts = Array.from({ length: 600 }, (_, i) => i * MIN);
  const p = new Float64Array(600);
  for (let i = 150; i <= 170; i++) p[i] = 0.8; // 30 → 10 min before the first onset: a hit, lead 30 min
  for (let i = 396; i <= 399; i++) p[i] = 0.9; // only 4 → 1 min before the second: too late to count
  for (let i = 500; i <= 505; i++) p[i] = 0.7; // nothing follows: a false prediction
  const windows = [[180 * MIN, 200 * MIN], [400 * MIN, 420 * MIN]] as const;
  const bandPoints = new Uint16Array(600).fill(2);
  const bandInside = Uint16Array.from({ length: 600 }, (_, i) => (i % 10 === 0 ? 1 : 2));

  it("counts hits 5–60 min before onset, lead times, false predictions and coverage", () => {
    const c = countPredictions({ timestampsMs: ts, pAnomaly: p, windows, evalStartMs: 60 * MIN, threshold: 0.5, bandPoints, bandInside });
    expect(c).toMatchObject({ onsets: 2, predicted: 1, leadMinSum: 30, predictions: 3, falsePredictions: 1 });
    const s = summarisePredictions(c, 0.5);
    expect(s.hitRate).toBe(0.5);
    expect(s.leadTimeMinAvg).toBe(30);
    expect(s.falsePredictionsPerDay).toBeCloseTo(1 / ((599 - 60) / 1440), 9);
    expect(s.intervalCoverage95).toBeCloseTo(1 - 54 / 1080, 9);
    expect(s.predictingShare).toBeCloseTo((21 - 0 + 4 + 6) / 540, 9); // rows 150–170, 396–399, 500–505 // rows 60–599: 54 rows with one point outside
  });
});

describe("slowly developing incidents", () => {
  it("counts a prediction from 60 min before the drift to 30 min before the harm, with the lead to the harm", () => {
    const ts = Array.from({ length: 600 }, (_, i) => i * MIN);
    const p = new Float64Array(600);
    for (let i = 250; i < 600; i++) p[i] = 0.9; // on from 250 min
    const c = countSlowIncidents(ts, p, [
      { startMs: 200 * MIN, impactMs: 400 * MIN }, // predicted 150 min before the harm
      { startMs: 100 * MIN, impactMs: 270 * MIN }, // only 20 min before the harm: too late
    ], 0.5);
    expect(c).toEqual({ incidents: 2, predicted: 1, leadMinSum: 150 });
  });
});

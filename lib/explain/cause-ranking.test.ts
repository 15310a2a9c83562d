import { describe, expect, it } from "vitest";
import { CAUSE_DEFAULTS, CauseRanker, contribution, counterRate, counterRates, historyReference, historySpan, hitRate, rangeTail, rankEvidence, windowEvidence } from "./cause-ranking";

const row = (score: number[], value: number[], expected: number[], sigma: number[]) => ({ score, value, expected, sigma });
const MIN = 60_000;

describe("CauseRanker", () => {
  it("ranks by score, then by deviation from the forecast when scores saturate", () => {
    const r = new CauseRanker(["a", "b", "c"], { lookbackMs: 0 });
    r.observe(0, row([100, 100, 10], [10, 30, 1], [0, 0, 0], [1, 1, 1]), true);
    // a: 1 + 10/10 (capped) = 2, b: 1 + 1 = 2 → tie, table order; c: 0.1 + 0.1
    expect(r.rank().map((c) => c.stream)).toEqual(["a", "b", "c"]);
    r.observe(MIN, row([100, 100, 10], [2, 30, 1], [0, 0, 0], [1, 1, 1]), true);
    // evidence is the largest contribution since the anomaly began (a keeps its 2), plus half
    // the contribution at the peak (the first row, where a and b reached 2)
    expect(Array.from(r.evidence)).toEqual([3, 3, 0.2 + 0.1]);
  });

  it("keeps the first mover ahead while the anomaly lasts, and forgets it on a quiet row", () => {
    const r = new CauseRanker(["db", "api"], { lookbackMs: 0 });
    r.observe(0, row([95, 5], [50, 1], [10, 1], [2, 1]), true);
    r.observe(MIN, row([70, 90], [20, 9], [10, 1], [2, 1]), true);
    expect(r.rank()[0]!.stream).toBe("db");
    r.observe(2 * MIN, row([0, 0], [10, 1], [10, 1], [2, 1]), false);
    expect(r.rank()).toEqual([]);
  });

  it("counts what a stream did in the lookback before the anomaly opened, and nothing older", () => {
    const r = new CauseRanker(["db", "api"], { lookbackMs: 10 * MIN });
    r.observe(0, row([40, 0], [10, 1], [10, 1], [2, 1]), false); // 20 min before the alarm: too old
    r.observe(12 * MIN, row([45, 0], [30, 1], [10, 1], [2, 1]), false); // db broke, not yet flagged
    r.observe(20 * MIN, row([10, 80], [12, 3], [10, 1], [2, 1]), true); // the alarm is on the API
    expect(r.rank().map((c) => c.stream)).toEqual(["db", "api"]);
    // 0.45 + 10/10, the peak itself (the API was quiet then: it adds nothing)
    expect(r.evidence[0]).toBeCloseTo(1.5 * contribution(45, 30, 10, 2), 12);
    expect(r.evidence[1]).toBeCloseTo(contribution(80, 3, 1, 1), 12);
  });

  it("ignores missing values and counts a move of a constant stream as a full deviation", () => {
    const r = new CauseRanker(["x", "flat"]);
    r.observe(0, row([0, 0], [NaN, 2], [1, 1], [1, 0]), true);
    expect(r.rank().map((c) => c.stream)).toEqual(["flat"]);
  });

  it("streaming evidence equals the batch window evidence at every flagged row", () => {
    const n = 4;
    const rows = 300;
    const streams = ["a", "b", "c", "d"];
    // a short history (an hour of 5-minute means) so that buckets are dropped within the run
    const hist = { historyMs: 60 * MIN, historyBucketMs: 5 * MIN };
    const r = new CauseRanker(streams, { lookbackMs: 7 * MIN, ...hist });
    const series = streams.map(() => ({ t: [] as number[], c: [] as number[], value: [] as number[] }));
    let onset = Number.NaN;
    let prevFlagged = false;
    for (let i = 0; i < rows; i++) {
      const t = i * MIN;
      const sc = Array.from({ length: n }, (_, k) => (Math.sin(i * 0.37 + k * 1.3) + 1) * 50);
      // stream d is a counter (no value); c has gaps
      const x = Array.from({ length: n }, (_, k) => (k === 3 || (k === 2 && i % 7 === 0) ? NaN : Math.cos(i * 0.11 * (k + 1)) * 3 + (i > 200 ? k : 0)));
      const row1 = row(sc, x, [0, 0, 0, 0], [1, 1, 1, 1]);
      const flagged = Math.sin(i * 0.05) > 0.6;
      r.observe(t, row1, flagged);
      series.forEach((s, k) => {
        s.t.push(t);
        s.c.push(contribution(sc[k]!, x[k]!, 0, 1));
        s.value.push(x[k]!);
      });
      if (flagged && !prevFlagged) onset = t;
      prevFlagged = flagged;
      if (!flagged) continue;
      const span = historySpan(onset, 7 * MIN, hist);
      const batch = series.map((s) => ({ ...s, history: historyReference(s.t, s.value, span) }));
      expect(Array.from(r.evidence)).toEqual(Array.from(windowEvidence(batch, onset, t, 7 * MIN)));
    }
  });

  it("ranks a stream that moved at the top cause's peak above one with a slightly larger move at another time", () => {
    // db breaks at 20 min (the peak); api moves a little with it; batch had its own routine
    // spike 15 minutes earlier, a bit larger than api's move. Scores only (no values).
    const ranked = (coWeight: number) => {
      const r = new CauseRanker(["batch", "api", "db"], { lookbackMs: 30 * MIN, coWeight });
      const none = [NaN, NaN, NaN];
      r.observe(0, row([5, 5, 5], none, none, none), false);
      r.observe(5 * MIN, row([55, 5, 5], none, none, none), false);
      r.observe(10 * MIN, row([5, 5, 5], none, none, none), false);
      r.observe(20 * MIN, row([5, 50, 100], none, none, none), true);
      r.observe(25 * MIN, row([5, 20, 90], none, none, none), true);
      return r;
    };
    expect(ranked(0).rank().map((c) => c.stream)).toEqual(["db", "batch", "api"]);
    const r = ranked(CAUSE_DEFAULTS.coWeight);
    expect(r.rank().map((c) => c.stream)).toEqual(["db", "api", "batch"]);
    // db: 1 + ½·1; api: 0.5 + ½·0.5; batch: 0.55 + ½·0.05
    expect(Array.from(r.evidence)).toEqual([0.55 + 0.025, 0.5 + 0.25, 1 + 0.5]);
  });

  it("keeps the top cause first, exact ties going to the stream that reached the peak first", () => {
    const r = new CauseRanker(["late", "early"], { lookbackMs: 0 });
    r.observe(0, row([40, 100], [NaN, NaN], [NaN, NaN], [NaN, NaN]), true);
    r.observe(MIN, row([100, 30], [NaN, NaN], [NaN, NaN], [NaN, NaN]), true);
    // both reached 1; the peak is the first row, where late had 0.4
    expect(r.rank().map((c) => c.stream)).toEqual(["early", "late"]);
    expect(r.evidence[1]).toBeCloseTo(1.5, 12);
    expect(r.evidence[0]).toBeCloseTo(1.2, 12);
    // the batch form finds the same peak over per-stream series
    const t = [0, MIN];
    expect(Array.from(windowEvidence([{ t, c: [0.4, 1] }, { t, c: [1, 0.3] }], 0, MIN, 0))).toEqual(Array.from(r.evidence));
  });

  it("ranks the stream that left its usual range above one that swings over its range anyway", () => {
    // A week of 5-minute rows: "swinging" goes between 0 and 10 every day, "steady" keeps 5 ± 0.1.
    // At the alarm both are clearly broken by their forecasts: swinging at the top of its daily
    // swing with a sharper forecast (score 100, 12 sigmas), steady a step to 6 (score 95, 10
    // sigmas). By score and forecast alone swinging comes first; against their own week, only
    // steady is somewhere it never was.
    const step = 5 * MIN;
    const week = 7 * 288;
    const ranked = (rangeWeight: number) => {
      const r = new CauseRanker(["swinging", "steady"], { rangeWeight });
      for (let i = 0; i < week; i++) {
        const swing = 5 + 5 * Math.sin((2 * Math.PI * i) / 288);
        r.observe(i * step, row([5, 5], [swing, 5 + 0.1 * Math.sin(i)], [swing, 5], [1, 0.1]), false);
      }
      r.observe(week * step, row([100, 95], [10, 6], [8.8, 5], [0.1, 0.1]), true);
      return r.rank().map((c) => c.stream);
    };
    expect(ranked(0)).toEqual(["swinging", "steady"]);
    expect(ranked(CAUSE_DEFAULTS.rangeWeight)).toEqual(["steady", "swinging"]);
  });
});

describe("rangeTail and the reference history", () => {
  const sorted = Float64Array.from({ length: 1999 }, (_, i) => i);

  it("is 0 without history and in the middle of it, 1 beyond all of a week, and grows towards the edges", () => {
    expect(rangeTail([], 5)).toBe(0);
    expect(rangeTail(sorted, NaN)).toBe(0);
    expect(rangeTail(sorted, 999)).toBe(0);
    expect(rangeTail(sorted, 5000)).toBe(1);
    expect(rangeTail(sorted, -1)).toBe(1);
    // p = 2·(10 + 1)/2000 = 0.011 → −log10 p / 3
    expect(rangeTail(sorted, 9.5)).toBeCloseTo(-Math.log10(0.011) / 3, 12);
    expect(rangeTail(sorted, 1988.5)).toBeCloseTo(-Math.log10(0.011) / 3, 12);
    expect(rangeTail(sorted, 100)).toBeLessThan(rangeTail(sorted, 10));
  });

  it("averages whole buckets of the week that ends one lookback before the onset", () => {
    const onset = Date.UTC(2026, 0, 8, 12, 3);
    const span = historySpan(onset, 30 * MIN);
    // buckets are 5-minute aligned: the last ends at 11:30, the first starts a week before it
    expect(span).toEqual({ fromMs: Date.UTC(2026, 0, 1, 11, 30), toMs: Date.UTC(2026, 0, 8, 11, 30), bucketMs: 5 * MIN });
    const t = [span.fromMs - MIN, span.fromMs, span.fromMs + MIN, span.fromMs + 5 * MIN, span.toMs - MIN, span.toMs, onset];
    const v = [100, 1, 3, NaN, 7, 50, 60];
    // out of the span: 100 (before), 50 and 60 (the lookback and the anomaly); NaN is skipped
    expect(Array.from(historyReference(t, v, span))).toEqual([2, 7]);
  });
});

describe("rankEvidence and hitRate", () => {
  it("shares sum to 1 over streams with evidence", () => {
    const ranked = rankEvidence(["a", "b", "c"], [1, 3, 0]);
    expect(ranked).toEqual([
      { stream: "b", share: 0.75 },
      { stream: "a", share: 0.25 },
    ]);
  });

  it("HitRate@P% looks at the first ⌊P·|labelled|⌋ ranked streams", () => {
    const ranked = ["a", "x", "b", "y", "c"];
    expect(hitRate(ranked, ["a", "b"], 100)).toBe(0.5); // top 2: a, x
    expect(hitRate(ranked, ["a", "b"], 150)).toBe(1); // top 3
    expect(hitRate(ranked, ["a", "b", "c"], 150)).toBe(2 / 3); // top 4
    expect(hitRate(ranked, [], 100)).toBeNaN();
  });
});

describe("counter rates", () => {
  it("is the increase per second since the previous reading, NaN across a reset", () => {
    expect(counterRate(100, 0, 160, 60_000)).toBe(1);
    expect(counterRate(100, 0, 100, 60_000)).toBe(0);
    // a drop is a reset: the increase over that interval is unknown
    expect(counterRate(100, 0, 5, 60_000)).toBeNaN();
    expect(counterRate(Number.NaN, Number.NaN, 5, 60_000)).toBeNaN();
    expect(counterRate(100, 60_000, 160, 60_000)).toBeNaN();
  });

  it("skips missing readings and starts over after a reset", () => {
    const t = [0, 60_000, 120_000, 180_000, 240_000, 300_000];
    const x = [10, 70, Number.NaN, 190, 4, 64];
    const r = Array.from(counterRates(t, x));
    expect(r[0]).toBeNaN();
    expect(r[1]).toBe(1);
    expect(r[2]).toBeNaN();
    // over the gap: 120 in two minutes
    expect(r[3]).toBe(1);
    expect(r[4]).toBeNaN();
    expect(r[5]).toBe(1);
    // a reading before the series gives the first its rate
    expect(counterRates([60_000], [130], { t: 0, value: 10 })[0]).toBe(2);
  });
});

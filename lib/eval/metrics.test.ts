import { describe, expect, it } from "vitest";
import { runs } from "./events";
import { evaluateDetection, microAverage, countDetections } from "./metrics";
import { adaptationTime } from "./adaptation";

const MIN = 60_000;
/** 100 rows at 1-min steps starting at t = 0. */
const ts = Float64Array.from({ length: 100 }, (_, i) => i * MIN);
function flags(...ranges: [number, number][]): Uint8Array {
  const f = new Uint8Array(100);
  for (const [a, b] of ranges) for (let i = a; i <= b; i++) f[i] = 1;
  return f;
}

describe("runs", () => {
  it("finds runs of consecutive flags, clipped to the range", () => {
    expect(runs([0, 1, 1, 0, 1])).toEqual([
      { start: 1, end: 2 },
      { start: 4, end: 4 },
    ]);
    expect(runs([1, 1, 1, 0], 1)).toEqual([{ start: 1, end: 2 }]);
    expect(runs([])).toEqual([]);
  });
});

describe("evaluateDetection", () => {
  const truth = [
    { startMs: 20 * MIN, endMs: 29 * MIN },
    { startMs: 60 * MIN, endMs: 64 * MIN },
  ];

  it("2 truth windows, 3 predicted events, 1 overlapping → P 1/3, R 1/2, F1 0.4", () => {
    const m = evaluateDetection({ timestampsMs: ts, isAnomaly: flags([5, 6], [23, 25], [80, 81]), truth, toleranceMs: 0 });
    expect(m.predictedEvents).toBe(3);
    expect(m.truePositiveEvents).toBe(1);
    expect(m.precision).toBeCloseTo(1 / 3, 12);
    expect(m.recall).toBeCloseTo(1 / 2, 12);
    expect(m.f1).toBeCloseTo((2 * (1 / 3) * 0.5) / (1 / 3 + 0.5), 12); // 0.4
    expect(m.f1).toBeCloseTo(0.4, 12);
    // delay: first flagged row 23 − window start 20 = 3 min
    expect(m.delaysSec).toEqual([180]);
    expect(m.windowDelaysSec).toEqual([180, null]);
    expect(m.detectionDelaySec).toBe(180);
    // normal rows = 100 − 10 − 5 = 85; flagged normal rows = 2 + 2 = 4
    expect(m.normalRows).toBe(85);
    expect(m.flaggedNormalRows).toBe(4);
    expect(m.fpr).toBeCloseTo(4 / 85, 12);
    // 2 false events over 100 minutes
    expect(m.falsePositiveEvents).toBe(2);
    expect(m.falseAlarmsPerDay).toBeCloseTo(2 / (100 / 1440), 9);
  });

  it("tolerance after the window end turns a late event into a true positive", () => {
    const late = flags([67, 68]); // window 2 ends at 64
    expect(evaluateDetection({ timestampsMs: ts, isAnomaly: late, truth, toleranceMs: 0 }).truePositiveEvents).toBe(0);
    const m = evaluateDetection({ timestampsMs: ts, isAnomaly: late, truth, toleranceMs: 5 * MIN });
    expect(m.truePositiveEvents).toBe(1);
    expect(m.detectedWindows).toBe(1);
    expect(m.delaysSec).toEqual([7 * 60]);
    // rows 20..34 and 60..69 are in matching spans → 75 normal rows, none flagged
    expect(m.normalRows).toBe(75);
    expect(m.fpr).toBe(0);
  });

  it("ignores the lead-in and counts an event already running at a window start as delay 0", () => {
    const f = flags([2, 4], [15, 22]);
    const m = evaluateDetection({ timestampsMs: ts, isAnomaly: f, truth, evalStartMs: 10 * MIN, toleranceMs: 0 });
    expect(m.predictedEvents).toBe(1);
    expect(m.precision).toBe(1);
    expect(m.delaysSec).toEqual([0]);
    expect(m.normalRows).toBe(90 - 15);
    expect(m.flaggedNormalRows).toBe(5); // rows 15..19
  });

  it("no predictions: precision undefined, recall 0, F1 0; no truth: recall and F1 undefined", () => {
    const none = evaluateDetection({ timestampsMs: ts, isAnomaly: new Uint8Array(100), truth });
    expect(none.precision).toBeNaN();
    expect(none.recall).toBe(0);
    expect(none.f1).toBe(0);
    expect(none.detectionDelaySec).toBeNaN();
    const quiet = evaluateDetection({ timestampsMs: ts, isAnomaly: flags([50, 51]), truth: [] });
    expect(quiet.recall).toBeNaN();
    expect(quiet.f1).toBeNaN();
    expect(quiet.precision).toBe(0);
    expect(quiet.fpr).toBeCloseTo(2 / 100, 12);
  });

  it("micro-averages by summing counts across scenarios", () => {
    const a = countDetections({ timestampsMs: ts, isAnomaly: flags([23, 25], [80, 81]), truth, toleranceMs: 0 }); // 1/2 TP, 1/2 windows
    const b = countDetections({ timestampsMs: ts, isAnomaly: flags([20, 21], [60, 60], [62, 63]), truth, toleranceMs: 0 }); // 3/3 TP, 2/2
    const m = microAverage([a, b]);
    expect(m.precision).toBeCloseTo(4 / 5, 12);
    expect(m.recall).toBeCloseTo(3 / 4, 12);
    expect(m.delaysSec).toEqual([180, 0, 0]);
    expect(m.detectionDelaySec).toBe(60);
    expect(m.detectionDelayMedianSec).toBe(0);
  });
});

describe("adaptationTime", () => {
  it("is the time until the detector stays quiet for the settle period", () => {
    // shift at row 10; flags 10–14 and 30–31 (gap 15 min < settle 20), then 80 (gap 48 min)
    const f = flags([10, 14], [30, 31], [80, 80]);
    const a = adaptationTime({ timestampsMs: ts, flags: f, atMs: 10 * MIN, settleMs: 20 * MIN, horizonMs: 90 * MIN });
    expect(a).toEqual({ sec: 22 * 60, adapted: true, horizonSec: 90 * 60 });
  });
  it("is 0 when nothing is flagged and 'not adapted' when flagging runs to the horizon", () => {
    expect(adaptationTime({ timestampsMs: ts, flags: new Uint8Array(100), atMs: 10 * MIN }).sec).toBe(0);
    const stuck = adaptationTime({ timestampsMs: ts, flags: flags([10, 99]), atMs: 10 * MIN, settleMs: 20 * MIN });
    expect(stuck.adapted).toBe(false);
    expect(stuck.sec).toBe(90 * 60); // horizon clipped to the data
  });
});

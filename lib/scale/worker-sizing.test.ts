import { describe, expect, it } from "vitest";
import { planWorkers, type MeasuredCost, type SizingAssumptions } from "./worker-sizing";

// small numbers so every figure below is worked out by hand
const assume: SizingAssumptions = {
  series: 1000,
  partitions: 4,
  scrapeIntervalS: 10,
  snapshotEveryS: 5,
  workerMemoryBytes: 1500,
  workerCores: 1,
  engineShare: 0.5,
};
const cost: MeasuredCost = {
  bytesPerStream: 2,
  workerBaseBytes: 100,
  stepNsPerPoint: 1e6,
  snapshotBytesPerStream: 0.5,
  snapshotMsPerStream: 4,
  loopHoldMsPerStream: 3,
  snapshotTransientBytesPerStream: 1,
  restoreMsPerStream: 2,
};

describe("planWorkers", () => {
  it("projects memory, snapshots and CPU, and picks the fewest workers within the budget", () => {
    const p = planWorkers(assume, cost);
    // 1000 series / 4 partitions; 1000 series / 10 s
    expect(p.seriesPerPartition).toBe(250);
    expect(p.pointsPerS).toBe(100);
    expect(p.detectorBytes).toBe(2000);
    expect(p.partitionBytes).toBe(500);
    expect(p.snapshotBytesPerPartition).toBe(125);
    // 250 × 4 ms = 1 s of snapshot every 5 s; 250 × 2 ms to restore
    expect(p.snapshotMsPerPartition).toBe(1000);
    expect(p.snapshotDutyPerPartition).toBeCloseTo(0.2, 12);
    expect(p.restoreMsPerPartition).toBe(500);
    // of the 1 s, 250 × 3 ms hold the event loop
    expect(p.stallMsPerPartition).toBe(750);
    // 100 points/s × 1 ms = 0.1 core of engine, 0.2 with the rest of the path; per partition 0.2 / 4 + 0.2
    expect(p.engineCores).toBeCloseTo(0.1, 12);
    expect(p.scoringCores).toBeCloseTo(0.2, 12);
    expect(p.coresPerPartition).toBeCloseTo(0.25, 12);
    // the busiest worker: base 100 + k × 500 + one snapshot's 250
    expect(p.byWorkers.map((l) => [l.workers, l.partitions, l.memoryBytes])).toEqual([
      [1, 4, 2350],
      [2, 2, 1350],
      [3, 2, 1350],
      [4, 1, 850],
    ]);
    expect(p.byWorkers.map((l) => l.cores)).toEqual([1, 0.5, 0.5, 0.25].map((c) => expect.closeTo(c, 12)));
    expect(p.workers).toBe(2);
  });

  it("lets CPU decide when memory is plentiful", () => {
    // two partitions need 0.5 core: over a 0.4-core worker, so one partition each
    expect(planWorkers({ ...assume, workerMemoryBytes: 1e9, workerCores: 0.4 }, cost).workers).toBe(4);
  });

  it("says when not even one partition per worker fits", () => {
    expect(planWorkers({ ...assume, workerMemoryBytes: 800 }, cost).workers).toBeNull();
  });

  it("caps a partition's snapshot share at a whole core (a snapshot longer than its interval)", () => {
    const p = planWorkers(assume, { ...cost, snapshotMsPerStream: 100 });
    expect(p.snapshotMsPerPartition).toBe(25_000);
    expect(p.snapshotDutyPerPartition).toBe(1);
  });

  it("refuses assumptions that make no sense", () => {
    expect(() => planWorkers({ ...assume, partitions: 0 }, cost)).toThrow(RangeError);
    expect(() => planWorkers({ ...assume, engineShare: 1.5 }, cost)).toThrow(RangeError);
  });
});

import { describe, expect, it } from "vitest";
import { lateCounts, LogProgressWatch } from "./log-progress";

const p0 = (pending: number) => [{ partition: 0, pending }];

describe("LogProgressWatch", () => {
  it("counts the time messages wait while no partition cursor moves", () => {
    const w = new LogProgressWatch();
    expect(w.observe(0, p0(5), [{ partition: 0, msgSeq: 10 }]).log).toBe(0);
    expect(w.observe(10_000, p0(5), [{ partition: 0, msgSeq: 10 }]).log).toBe(10_000);
    expect(w.observe(40_000, p0(7), [{ partition: 0, msgSeq: 10 }]).log).toBe(40_000);
    // the cursor moves: progress, the wait starts over
    expect(w.observe(41_000, p0(7), [{ partition: 0, msgSeq: 12 }]).log).toBeNull();
    expect(w.observe(45_000, p0(7), [{ partition: 0, msgSeq: 12 }]).log).toBe(4_000);
  });

  it("is not stalled while nothing waits, whatever the cursors do", () => {
    const w = new LogProgressWatch();
    expect(w.observe(0, p0(0), [{ partition: 0, msgSeq: 10 }])).toEqual({ log: null, stalled: [] });
    expect(w.observe(60_000, [], [])).toEqual({ log: null, stalled: [] });
    expect(w.observe(61_000, null, [])).toEqual({ log: null, stalled: [] });
    expect(w.observe(62_000, p0(3), []).log).toBe(0);
  });

  it("does not count a partition reappearing (moved to another worker) as progress", () => {
    const w = new LogProgressWatch();
    const waiting = [{ partition: 0, pending: 2 }, { partition: 1, pending: 2 }];
    w.observe(0, waiting, [{ partition: 0, msgSeq: 10 }, { partition: 1, msgSeq: 20 }]);
    expect(w.observe(5_000, waiting, [{ partition: 0, msgSeq: 10 }]).log).toBe(5_000);
    expect(w.observe(20_000, waiting, [{ partition: 0, msgSeq: 10 }, { partition: 1, msgSeq: 20 }]).log).toBe(20_000);
    // a partition seen for the first time is a baseline, not progress
    const third = w.observe(25_000, waiting, [{ partition: 0, msgSeq: 10 }, { partition: 1, msgSeq: 20 }, { partition: 2, msgSeq: 3 }]);
    expect(third.log).toBe(25_000);
    expect(third.stalled).toEqual([]);
    expect(w.observe(31_000, waiting, [{ partition: 0, msgSeq: 10 }, { partition: 1, msgSeq: 20 }]).stalled).toEqual([
      { partition: 0, pending: 2, waitedMs: 31_000 },
      { partition: 1, pending: 2, waitedMs: 31_000 },
    ]);
  });

  it("flags the one partition whose messages wait with its cursor unmoved while the others progress", () => {
    const w = new LogProgressWatch();
    const pending = (stuck: number) => [
      { partition: 0, pending: 3 },
      { partition: 1, pending: stuck },
      { partition: 2, pending: 0 },
      { partition: 3, pending: 4 },
    ];
    // partitions 0 and 3 score every few seconds; partition 1's cursor stays at 7
    const cursors = (t: number, p1 = 7) => [
      { partition: 0, msgSeq: 100 + t / 1_000 },
      { partition: 1, msgSeq: p1 },
      { partition: 2, msgSeq: 50 },
      { partition: 3, msgSeq: 200 + t / 1_000 },
    ];
    // the first report is a baseline for every cursor
    expect(w.observe(0, pending(5), cursors(0))).toEqual({ log: 0, stalled: [] });
    for (let t = 5_000; t <= 30_000; t += 5_000) {
      const r = w.observe(t, pending(5 + t / 1_000), cursors(t));
      // the log as a whole progresses, and 30 s are not over yet
      expect(r).toEqual({ log: null, stalled: [] });
    }
    const late = w.observe(32_000, pending(40), cursors(32_000));
    expect(late).toEqual({ log: null, stalled: [{ partition: 1, pending: 40, waitedMs: 32_000 }] });
    expect(w.observe(60_000, pending(60), cursors(60_000)).stalled).toEqual([{ partition: 1, pending: 60, waitedMs: 60_000 }]);
    // its cursor moves: cleared at once, and its wait starts over
    expect(w.observe(61_000, pending(58), cursors(61_000, 9)).stalled).toEqual([]);
    expect(w.observe(90_000, pending(50), cursors(90_000, 9)).stalled).toEqual([]);
    expect(w.observe(92_000, pending(50), cursors(92_000, 9)).stalled).toEqual([{ partition: 1, pending: 50, waitedMs: 31_000 }]);
  });

  it("starts a partition's wait when its messages start waiting, not at its last cursor move", () => {
    const w = new LogProgressWatch();
    w.observe(0, [{ partition: 0, pending: 0 }], [{ partition: 0, msgSeq: 5 }]);
    // idle for a minute (nothing waits), then messages arrive
    expect(w.observe(60_000, [{ partition: 0, pending: 0 }], [{ partition: 0, msgSeq: 5 }]).stalled).toEqual([]);
    expect(w.observe(61_000, [{ partition: 0, pending: 2 }], [{ partition: 0, msgSeq: 5 }]).stalled).toEqual([]);
    expect(w.observe(90_000, [{ partition: 0, pending: 2 }], [{ partition: 0, msgSeq: 5 }]).stalled).toEqual([]);
    expect(w.observe(92_000, [{ partition: 0, pending: 2 }], [{ partition: 0, msgSeq: 5 }]).stalled).toEqual([{ partition: 0, pending: 2, waitedMs: 31_000 }]);
    // the log unreadable: nothing known, the waits start over
    expect(w.observe(93_000, null, [{ partition: 0, msgSeq: 5 }]).stalled).toEqual([]);
    expect(w.observe(94_000, [{ partition: 0, pending: 2 }], [{ partition: 0, msgSeq: 5 }]).stalled).toEqual([]);
  });

  it("flags an ownerless partition (no worker reports its cursor) once its messages wait 30 s", () => {
    const w = new LogProgressWatch();
    const pending = [{ partition: 0, pending: 1 }, { partition: 1, pending: 6 }];
    w.observe(0, pending, [{ partition: 0, msgSeq: 10 }]);
    expect(w.observe(31_000, pending, [{ partition: 0, msgSeq: 40 }])).toEqual({ log: null, stalled: [{ partition: 1, pending: 6, waitedMs: 31_000 }] });
  });
});

describe("lateCounts", () => {
  it("takes each partition's counts from its newest cursor: a dead owner's last heartbeat is not added to its successor's", () => {
    const deadOwner = [
      { partition: 0, msgSeq: 40, late: 100, lateScored: 60 },
      { partition: 1, msgSeq: 41, late: 71, lateScored: 41 },
    ];
    const successor = [
      { partition: 0, msgSeq: 40, late: 100, lateScored: 60 },
      { partition: 1, msgSeq: 55, late: 75, lateScored: 45 },
    ];
    expect(lateCounts([...deadOwner, ...successor])).toEqual({ samples: 175, scored: 105 });
    expect(lateCounts([...successor, ...deadOwner])).toEqual({ samples: 175, scored: 105 });
    // an older worker without the fields counts nothing for its partitions
    expect(lateCounts([{ partition: 2, msgSeq: 9 }])).toEqual({ samples: 0, scored: 0 });
    expect(lateCounts([])).toEqual({ samples: 0, scored: 0 });
  });
});

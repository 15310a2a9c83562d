import { describe, expect, it } from "vitest";
import { DetectionEngine } from "./engine";
import { Rng } from "./rng";
import { gauss } from "./test-noise";
import { scoreTable } from "./score-table";

const T0 = 1_700_000_000_000;
const STEP = 60_000;
const N = 10;


/** N independent noisy streams; for `len` steps from `at`, streams 0..moved−1 sit `size` σ higher. */
function independent(rows: number, at: number, moved: number, size: number, len = Infinity): Float64Array[] {
  const rng = new Rng(7);
  const cols = Array.from({ length: N }, () => new Float64Array(rows));
  for (let r = 0; r < rows; r++) {
    const up = r >= at && r - at < len;
    for (let i = 0; i < N; i++) cols[i]![r] = 100 + 10 * i + gauss(rng) + (up && i < moved ? size : 0);
  }
  return cols;
}

function table(cols: Float64Array[]) {
  const rows = cols[0]!.length;
  return { timestampsMs: Array.from({ length: rows }, (_, r) => T0 + r * STEP), columns: cols.map((values, i) => ({ name: `s${i}`, values })) };
}

/** Each step's breadth score and largest stream score. */
function breadthScores(cols: Float64Array[], engine = new DetectionEngine()): { breadth: number[]; streamMax: number[] } {
  const ids = cols.map((_, i) => `s${i}`);
  for (const id of ids) if (!engine.hasStream(id)) engine.addStream(id, "gauge");
  const breadth: number[] = [];
  const streamMax: number[] = [];
  const v = new Float64Array(N);
  for (let r = 0; r < cols[0]!.length; r++) {
    for (let i = 0; i < N; i++) v[i] = cols[i]![r]!;
    const res = engine.step(T0 + r * STEP, ids, v);
    breadth.push(res.breadthScore);
    streamMax.push(Math.max(...res.score));
  }
  return { breadth, streamMax };
}

describe("breadth score (many streams moving unusually at once)", () => {
  it("flags a step on which most streams move together, each by too little to alarm alone", () => {
    // seven of ten streams 3.5σ up for one step
    const cols = independent(3000, 2500, 7, 3.5, 1);
    const { breadth, streamMax } = breadthScores(cols);
    expect(Math.max(...breadth.slice(0, 2500))).toBeLessThan(60);
    expect(streamMax[2500]).toBeLessThan(60);
    expect(breadth[2500]).toBeGreaterThanOrEqual(60);
    const rows = scoreTable(table(cols));
    expect(rows.score[2500]).toBeGreaterThanOrEqual(60);
    expect([rows.isAnomaly[2500], rows.type[2500]]).toEqual([1, "collective"]);

    // the same move of one stream only is not breadth
    expect(breadthScores(independent(3000, 2500, 1, 3.5, 1)).breadth[2500]).toBe(0);
  });

  it("scores a count never seen as the rarest its history can show: 100 after 11,000 steps, not 90", () => {
    // seven of ten streams 6σ up for one step, after 11,000 quiet steps: log10(11,001) = 4.04 decades
    const cols = independent(11_001, 11_000, 7, 6, 1);
    expect(breadthScores(cols).breadth[11_000]).toBeGreaterThanOrEqual(99.9);
    // the scale fixed at 4.5 decades (the sixth session's) held it to 90
    const fixed = breadthScores(cols, new DetectionEngine({ tier2: { breadthDecadesMin: 4.5 } })).breadth[11_000]!;
    expect(fixed).toBeGreaterThan(85);
    expect(fixed).toBeLessThan(90);
  });

  it("keeps what it learnt when a stream joins the table", () => {
    const cols = independent(3000, 2500, 7, 3.5, 1);
    const engine = new DetectionEngine();
    const ids = cols.map((_, i) => `s${i}`);
    for (const id of ids) engine.addStream(id, "gauge");
    const v = new Float64Array(N + 1);
    let at2500 = 0;
    for (let r = 0; r < 2501; r++) {
      if (r === 2000) engine.addStream("late", "gauge");
      const n = r < 2000 ? N : N + 1;
      for (let i = 0; i < N; i++) v[i] = cols[i]![r]!;
      v[N] = 5;
      at2500 = engine.step(T0 + r * STEP, n === N ? ids : [...ids, "late"], v.subarray(0, n)).breadthScore;
    }
    expect(at2500).toBeGreaterThanOrEqual(60);
  });

  it("does not alarm on streams that always move together", () => {
    // ten views of one quantity that jumps every 100 steps: a joint move is routine here
    const rng = new Rng(3);
    const rows = 3000;
    const cols = Array.from({ length: N }, () => new Float64Array(rows));
    let level = 100;
    for (let r = 0; r < rows; r++) {
      if (r % 100 === 50) level += (rng.next() < 0.5 ? -1 : 1) * 8;
      for (let i = 0; i < N; i++) cols[i]![r] = level * (1 + i / 10) + 0.5 * gauss(rng);
    }
    expect(Math.max(...breadthScores(cols).breadth.slice(1500))).toBeLessThan(60);
  });

  it("names the streams that moved in the collective event it opens", () => {
    const cols = independent(3000, 2500, 7, 6);
    const engine = new DetectionEngine();
    const ids = cols.map((_, i) => `s${i}`);
    for (const id of ids) engine.addStream(id, "gauge");
    const v = new Float64Array(N);
    const opened: { streamIds: string[]; explanation: string }[] = [];
    for (let r = 0; r < 2510; r++) {
      for (let i = 0; i < N; i++) v[i] = cols[i]![r]!;
      for (const c of engine.step(T0 + r * STEP, ids, v).changes) {
        if (c.kind === "opened" && c.event.type === "collective") opened.push({ streamIds: c.event.streamIds, explanation: c.event.explanation });
      }
    }
    const breadthEvents = opened.filter((e) => e.explanation.includes("moved unusually at once"));
    expect(breadthEvents.length).toBeGreaterThan(0);
    for (const id of breadthEvents[0]!.streamIds) expect(["s0", "s1", "s2", "s3", "s4", "s5", "s6"]).toContain(id);
  });

  it("learns a joint move that comes at the same hour every day, and still flags one at another hour", () => {
    // 1-minute steps from midnight UTC; seven of ten streams jump 5σ for one step at 13:45 every day
    const day = 1440;
    const at = 13 * 60 + 45;
    const days = 7;
    const t0 = Date.UTC(2026, 0, 5);
    const rng = new Rng(11);
    const cols = Array.from({ length: N }, () => new Float64Array(days * day));
    for (let r = 0; r < days * day; r++) {
      // day 6 has a second joint move at 03:00, an hour the table never saw one
      const jump = r % day === at || r === 6 * day + 180;
      for (let i = 0; i < N; i++) cols[i]![r] = 100 + 10 * i + gauss(rng) + (jump && i < 7 ? 5 : 0);
    }
    const run = (routine: boolean): number[] => {
      const engine = new DetectionEngine({ tier2: { breadthRoutine: routine } });
      const ids = cols.map((_, i) => `s${i}`);
      for (const id of ids) engine.addStream(id, "gauge");
      const v = new Float64Array(N);
      const out: number[] = [];
      for (let r = 0; r < days * day; r++) {
        for (let i = 0; i < N; i++) v[i] = cols[i]![r]!;
        out.push(engine.step(t0 + r * 60_000, ids, v).breadthScore);
      }
      return out;
    };
    const daily = (b: number[]) => Array.from({ length: days }, (_, d) => b[d * day + at]!);
    const without = run(false);
    const withRoutine = run(true);
    // without the routine the 13:45 move alarms every day
    for (const s of daily(without).slice(1)) expect(s).toBeGreaterThanOrEqual(60);
    // with it: until the three days before hold it (days 0–2: from day 3 on), then no more
    expect(daily(withRoutine).slice(1, 3).every((s) => s >= 60)).toBe(true);
    expect(daily(withRoutine).slice(3)).toEqual([0, 0, 0, 0]);
    expect(withRoutine[6 * day + 180]).toBeGreaterThanOrEqual(60);

    // the routine is part of the saved state
    const a = new DetectionEngine();
    const ids = cols.map((_, i) => `s${i}`);
    for (const id of ids) a.addStream(id, "gauge");
    const v = new Float64Array(N);
    const feed = (e: DetectionEngine, r: number) => {
      for (let i = 0; i < N; i++) v[i] = cols[i]![r]!;
      return e.step(t0 + r * 60_000, ids, v).breadthScore;
    };
    for (let r = 0; r < 5 * day; r++) feed(a, r);
    const b = DetectionEngine.restore(JSON.parse(JSON.stringify(a.serialize())));
    for (let r = 5 * day; r < days * day; r++) expect(feed(b, r)).toBe(feed(a, r));
  });

  it("restores from a saved state with the same next scores", () => {
    const cols = independent(2600, 2500, 7, 4);
    const a = new DetectionEngine();
    const first = cols.map((c) => c.subarray(0, 1200));
    breadthScores(first, a);
    const b = DetectionEngine.restore(JSON.parse(JSON.stringify(a.serialize())));
    const rest = cols.map((c) => c.subarray(1200));
    const ids = cols.map((_, i) => `s${i}`);
    const v = new Float64Array(N);
    for (let r = 0; r < rest[0]!.length; r++) {
      for (let i = 0; i < N; i++) v[i] = rest[i]![r]!;
      const t = T0 + (1200 + r) * STEP;
      expect(b.step(t, ids, v).breadthScore).toBe(a.step(t, ids, v).breadthScore);
    }
  });
});

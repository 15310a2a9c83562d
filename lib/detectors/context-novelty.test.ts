import { describe, expect, it } from "vitest";
import { decodeF64Column } from "./codec";
import { ContextNoveltyBank } from "./context-novelty";
import { Rng } from "./rng";

/** A daily-like sine with noise, 96 points a cycle. */
function wave(t: number, rng: Rng, level = 0): number {
  return level + 10 + 8 * Math.sin((2 * Math.PI * t) / 96) + (rng.next() - 0.5);
}

describe("ContextNoveltyBank", () => {
  it("is silent while learning and scores a never-seen value band 1", () => {
    const b = new ContextNoveltyBank({ warmup: 100 });
    b.add();
    const rng = new Rng(1);
    for (let t = 0; t < 200; t++) expect(b.update(0, wave(t, rng))).toBeNaN();
    expect(b.update(0, wave(200, rng))).not.toBeNaN();
    for (let t = 201; t < 2000; t++) b.update(0, wave(t, rng));
    expect(b.score(0, 60)).toBe(1);
    expect(b.update(0, 60)).toBe(1);
    // once seen, the band itself is no longer new
    expect(b.update(0, 60)).toBeLessThan(1);
  });

  it("scores routine contexts 0 once learnt", () => {
    const b = new ContextNoveltyBank({ warmup: 96, bins: 8, order: 2 });
    b.add();
    const rng = new Rng(2);
    for (let t = 0; t < 96 * 30; t++) b.update(0, wave(t, rng));
    let sum = 0;
    for (let t = 96 * 30; t < 96 * 32; t++) sum += b.update(0, wave(t, rng));
    expect(sum / (96 * 2)).toBeLessThan(0.02);
  });

  it("incremental scoring equals a batch recount of the grams seen before each point", () => {
    const p = { warmup: 50, bins: 6, order: 3, bits: 1 << 16 };
    const b = new ContextNoveltyBank(p);
    b.add();
    const rng = new Rng(5);
    const xs: number[] = [];
    for (let t = 0; t < 800; t++) xs.push(wave(t, rng, t > 600 ? 6 : 0));
    const got = xs.map((x) => b.update(0, x));
    // batch: bins from the warm-up range, grams as strings in a set (no hashing, no collisions);
    // a point in a band never seen stays out of the context
    const w = xs.slice(0, 50);
    const lo = Math.min(...w);
    const q = (Math.max(...w) - lo) / p.bins;
    const seen = new Set<string>();
    const ctx: number[] = [];
    let mismatches = 0;
    let compared = 0;
    for (let t = 50; t < xs.length; t++) {
      const b0 = Math.floor((xs[t]! - lo) / q);
      const k = Math.min(p.order, t + 1 - p.warmup);
      let novel = 0;
      let newBand = false;
      for (let o = 1; o <= k; o++) {
        const g = `${o}:${[b0, ...ctx.slice(0, o - 1)].join(",")}`;
        if (!seen.has(g)) {
          novel++;
          seen.add(g);
          if (o === 1) newBand = true;
        }
      }
      if (!newBand) ctx.unshift(b0);
      if (t + 1 > 2 * p.warmup) {
        compared++;
        if (Math.abs(novel / k - got[t]!) > 1e-12) mismatches++;
      }
    }
    expect(compared).toBe(700);
    // a 65,536-bit set over a few hundred grams: collisions are (nearly) absent
    expect(mismatches).toBeLessThanOrEqual(2);
  });

  it("round-trips its state: identical next outputs", () => {
    const a = new ContextNoveltyBank({ warmup: 60 });
    a.add();
    a.add();
    const rng = new Rng(9);
    for (let t = 0; t < 500; t++) {
      a.update(0, wave(t, rng));
      a.update(1, rng.next() * 100);
    }
    const r = ContextNoveltyBank.restore(JSON.parse(JSON.stringify(a.serialize())));
    for (let t = 500; t < 800; t++) {
      const x = t % 97 === 0 ? 40 : wave(t, rng);
      expect(r.update(0, x)).toBe(a.update(0, x));
      const y = rng.next() * 130;
      expect(r.update(1, y)).toBe(a.update(1, y));
    }
  });

  it("saves its bit set as doubles holding the 32-bit words, and restores them from there and from slot copies", () => {
    const a = new ContextNoveltyBank({ warmup: 60, bits: 256 });
    for (let k = 0; k < 3; k++) a.add();
    const rng = new Rng(4);
    for (let t = 0; t < 600; t++) for (let k = 0; k < 3; k++) a.update(k, wave(t, rng, 3 * k) + (k === 2 ? 20 * rng.next() : 0));
    const state = a.serialize();
    const words = decodeF64Column(state.cols.set)!;
    expect(words.length).toBe(3 * 8);
    expect(words.every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32)).toBe(true);
    // the top bit of a word is a bit like any other (a word above 2³¹ is no negative number)
    expect(words.some((v) => v >= 2 ** 31)).toBe(true);
    const r = ContextNoveltyBank.restore(JSON.parse(JSON.stringify(state)));
    const copy = ContextNoveltyBank.restore(a.serializeSlots([2, 0]));
    for (let t = 600; t < 700; t++) {
      const x = wave(t, rng, 6) + 20 * rng.next();
      const s = a.update(2, x);
      expect(r.update(2, x)).toBe(s);
      expect(copy.update(0, x)).toBe(s);
    }
  });

  it("ranks a level change inside a daily pattern above the same pattern without it (better than chance)", () => {
    // per seed: mean novelty over the shifted day vs over a normal day of the same series
    let wins = 0;
    const seeds = 20;
    for (let s = 0; s < seeds; s++) {
      const b = new ContextNoveltyBank({ warmup: 96 });
      b.add();
      const rng = new Rng(100 + s);
      let normal = 0;
      let shifted = 0;
      for (let t = 0; t < 96 * 20; t++) {
        const day = Math.floor(t / 96);
        const nv = b.update(0, wave(t, rng, day === 18 ? -5 : 0));
        if (day === 17) normal += nv;
        if (day === 18) shifted += nv;
      }
      if (shifted > normal) wins++;
    }
    expect(wins).toBeGreaterThanOrEqual(18);
  });
});

describe("context novelty in the engine", () => {
  it("restores a state saved before the bank existed with a fresh one (silent while it re-learns)", async () => {
    const { DetectionEngine } = await import("./engine");
    const e = new DetectionEngine({ tier2: { enabled: false } });
    const rng = new Rng(4);
    const t0 = 1_700_000_000_000;
    for (let t = 0; t < 600; t++) e.step(t0 + t * 60_000, ["x"], new Float64Array([wave(t, rng)]));
    const old = JSON.parse(JSON.stringify(e.serialize())) as Record<string, unknown>;
    delete old.nv;
    const r = DetectionEngine.restore(old);
    const res = r.step(t0 + 600 * 60_000, ["x"], new Float64Array([wave(600, rng)]));
    expect(Number.isFinite(res.score[0]!)).toBe(true);
    // and a current state round-trips with identical next outputs
    const same = DetectionEngine.restore(JSON.parse(JSON.stringify(e.serialize())));
    for (let t = 600; t < 700; t++) {
      const x = new Float64Array([wave(t, rng, t > 650 ? 9 : 0)]);
      expect(same.step(t0 + t * 60_000, ["x"], x).score[0]).toBe(e.step(t0 + t * 60_000, ["x"], x).score[0]);
    }
  });
});

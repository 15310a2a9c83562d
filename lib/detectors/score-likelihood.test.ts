import { describe, expect, it } from "vitest";
import { Rng } from "./rng";
import { normalTailDecades, ScoreLikelihoodBank } from "./score-likelihood";

describe("normalTailDecades", () => {
  it("matches known normal tail probabilities", () => {
    // Q(1) = 0.158655, Q(3) = 1.349898e-3, Q(5) = 2.866516e-7, Q(10) = 7.619853e-24
    expect(normalTailDecades(1)).toBeCloseTo(-Math.log10(0.158655), 4);
    expect(normalTailDecades(3)).toBeCloseTo(-Math.log10(1.349898e-3), 4);
    expect(normalTailDecades(5)).toBeCloseTo(-Math.log10(2.866516e-7), 4);
    expect(normalTailDecades(10)).toBeCloseTo(-Math.log10(7.619853e-24), 3);
    expect(normalTailDecades(40)).toBeGreaterThan(300); // no underflow to Infinity
    expect(Number.isFinite(normalTailDecades(40))).toBe(true);
    expect(normalTailDecades(-2)).toBe(0);
    expect(normalTailDecades(NaN)).toBe(0);
  });
});

describe("ScoreLikelihoodBank", () => {
  const off = { onsetEvidence: 0, pointPriorStd: 0 };

  it("incremental moments equal the batch computation of the same weights", () => {
    const b = new ScoreLikelihoodBank({ ...off, longWindow: 50, priorCount: 5 });
    b.add();
    const rng = new Rng(3);
    const xs: number[] = [];
    for (let t = 0; t < 400; t++) {
      const a = rng.next() * 0.3;
      xs.push(a);
      b.update(0, a);
    }
    // batch: the short EWMA, then the weighted mean/variance recursion written as sums
    const beta = 2 / 11;
    let sh = 0;
    let m = 0.05;
    let v = 0.01;
    for (let t = 0; t < xs.length; t++) {
      sh += beta * (xs[t]! - sh);
      const w = Math.max(1 / (t + 1 + 5), 1 / 50);
      const d = sh - m;
      m += w * d;
      v = (1 - w) * (v + w * d * d);
    }
    const state = b.serialize() as unknown as { cols: Record<string, unknown> };
    const r = ScoreLikelihoodBank.restore(JSON.parse(JSON.stringify(b.serialize())));
    expect(state.cols).toBeDefined();
    // the next evidence of a probe equals the one computed from the batch moments
    const probe = 0.9;
    const shNext = sh + beta * (probe - sh);
    const z = (shNext - m) / Math.max(Math.sqrt(v), 0.03);
    expect(r.score(0, probe)).toBeCloseTo(normalTailDecades(z), 9);
  });

  it("round-trips its state: identical next outputs", () => {
    const a = new ScoreLikelihoodBank();
    a.add();
    a.add();
    const rng = new Rng(9);
    for (let t = 0; t < 300; t++) {
      a.update(0, rng.next() * 0.2);
      a.update(1, rng.next() < 0.05 ? 1 : 0);
    }
    const b = ScoreLikelihoodBank.restore(JSON.parse(JSON.stringify(a.serialize())));
    for (let t = 0; t < 100; t++) {
      const x = t % 17 === 0 ? 0.95 : rng.next() * 0.2;
      expect(b.update(0, x)).toBe(a.update(0, x));
      expect(b.update(1, 1 - x)).toBe(a.update(1, 1 - x));
    }
  });

  it("the same raw burst is strong evidence on a quiet stream and weak on a bursty one", () => {
    const b = new ScoreLikelihoodBank(off);
    b.add();
    b.add();
    const rng = new Rng(5);
    for (let t = 0; t < 3000; t++) {
      b.update(0, rng.next() * 0.1); // quiet: raw scores below 10
      b.update(1, rng.next() < 0.1 ? 0.8 + 0.2 * rng.next() : rng.next() * 0.1); // routine bursts
    }
    let quiet = 0;
    let bursty = 0;
    for (let t = 0; t < 3; t++) {
      quiet = b.update(0, 0.8);
      bursty = b.update(1, 0.8);
    }
    expect(quiet).toBeGreaterThan(5);
    expect(quiet).toBeGreaterThan(2 * bursty);
  });

  it("better than chance on a labelled case: sustained raw-score shifts rank above routine noise", () => {
    const b = new ScoreLikelihoodBank(off);
    b.add();
    const rng = new Rng(11);
    const pos: number[] = [];
    const neg: number[] = [];
    for (let t = 0; t < 6000; t++) {
      const inAnomaly = t >= 1000 && t % 1000 < 20;
      const a = inAnomaly ? 0.35 + 0.1 * rng.next() : rng.next() < 0.02 ? 0.5 * rng.next() : 0.1 * rng.next();
      const ev = b.update(0, a);
      if (t < 1000) continue;
      if (inAnomaly && t % 1000 >= 5) pos.push(ev);
      else if (!inAnomaly) neg.push(ev);
    }
    // AUC by pairwise comparison on a subsample
    let wins = 0;
    let pairs = 0;
    for (const p of pos) for (let k = 0; k < neg.length; k += 25) {
      pairs++;
      if (p > neg[k]!) wins++;
    }
    expect(wins / pairs).toBeGreaterThan(0.9);
  });

  it("onset shaping: a long excursion keeps its first point, then decays; a new excursion scores again", () => {
    const b = new ScoreLikelihoodBank({ onsetEvidence: 4.8, onsetHold: 1, onsetDecay: 0.5, pointPriorStd: 0 });
    b.add();
    for (let t = 0; t < 2000; t++) b.update(0, 0.02);
    const ev: number[] = [];
    for (let t = 0; t < 12; t++) ev.push(b.update(0, 1));
    const first = ev.findIndex((e) => e >= 4.8);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(ev[ev.length - 1]!).toBeLessThan(4.8);
    for (let t = 0; t < 400; t++) b.update(0, 0.02);
    let again = 0;
    for (let t = 0; t < 5; t++) again = Math.max(again, b.update(0, 1));
    expect(again).toBeGreaterThanOrEqual(4.8);
  });

  it("onset cool-down: a return above the level within the cool-down is the same excursion", () => {
    const run = (onsetCooldown: number): number[] => {
      const b = new ScoreLikelihoodBank({ onsetEvidence: 4.8, onsetHold: 1, onsetDecay: 0.5, pointPriorStd: 0, onsetCooldown });
      b.add();
      for (let t = 0; t < 2000; t++) b.update(0, 0.02);
      // a spike, three quiet points (its echo in the short window dips below the level), a
      // smaller bump, a long quiet stretch, then the same spike again
      const raw = [1, 0, 0, 0, 0.5, 0.3, ...new Array<number>(25).fill(0), 1];
      return raw.map((a) => b.update(0, a));
    };
    const fresh = run(0);
    const cooled = run(3);
    expect(fresh[0]).toBeGreaterThanOrEqual(4.8);
    expect(cooled[0]).toBeCloseTo(fresh[0]!, 10);
    // without a cool-down the bump is a second onset; with it, the decayed tail of the first
    expect(Math.max(fresh[4]!, fresh[5]!)).toBeGreaterThanOrEqual(4.8);
    expect(Math.max(cooled[4]!, cooled[5]!)).toBeLessThan(4.8);
    // long after the excursion, a spike is a new onset either way
    expect(cooled[cooled.length - 1]).toBeGreaterThanOrEqual(4.8);
    expect(cooled[cooled.length - 1]).toBeCloseTo(fresh[fresh.length - 1]!, 10);
  });

  it("restores a state saved before the onset cool-down existed", () => {
    const b = new ScoreLikelihoodBank({ onsetEvidence: 4.8, onsetCooldown: 3 });
    b.add();
    for (let t = 0; t < 300; t++) b.update(0, t % 7 === 0 ? 0.3 : 0.02);
    const state = JSON.parse(JSON.stringify(b.serialize())) as { cols: Record<string, unknown> };
    delete state.cols.qt;
    const r = ScoreLikelihoodBank.restore(state);
    for (let t = 0; t < 50; t++) expect(r.update(0, 0.5)).toBe(b.update(0, 0.5));
  });
});

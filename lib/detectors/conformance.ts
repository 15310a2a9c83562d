/**
 * The shared conformance suite every detector passes (River-style). Imported by the *.test.ts
 * files only. Checks: input not mutated, score() is pure, state round-trip through JSON gives
 * identical next scores, same seed/config same output, missing values handled, better than
 * chance (ROC AUC) on a labelled case.
 */
import { expect, it } from "vitest";
import { Rng } from "./rng";
import type { MultivariateDetector, UnivariateDetector } from "./types";

const T0 = 1_700_000_000_000;
const STEP = 60_000;

/** Labelled univariate series: daily-ish sine + noise + 1 % spikes (label 1). */
export function labelledSeries(n: number, seed = 1): { x: Float64Array; t: Float64Array; y: Uint8Array } {
  const rng = new Rng(seed);
  const x = new Float64Array(n);
  const t = new Float64Array(n);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let g = 0;
    for (let k = 0; k < 6; k++) g += rng.next();
    g = (g - 3) * 1.41;
    t[i] = T0 + i * STEP;
    x[i] = 100 + 10 * Math.sin((2 * Math.PI * i) / 240) + 2 * g;
    if (i > 300 && rng.next() < 0.01) {
      x[i] = x[i]! + (rng.next() < 0.5 ? -1 : 1) * (15 + 10 * rng.next());
      y[i] = 1;
    }
  }
  return { x, t, y };
}

/** ROC AUC of scores against 0/1 labels (ties count ½). */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const idx = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let rankSum = 0;
  let pos = 0;
  let i = 0;
  while (i < idx.length) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]!] === scores[idx[i]!]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (labels[idx[k]!] === 1) {
      rankSum += r;
      pos++;
    }
    i = j + 1;
  }
  const neg = idx.length - pos;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

export function univariateConformance(
  make: () => UnivariateDetector,
  restore: (state: unknown) => UnivariateDetector,
  opts: { minAuc?: number; n?: number } = {},
): void {
  const n = opts.n ?? 3000;
  const { x, t, y } = labelledSeries(n);

  it("score() is pure and does not change later scores", () => {
    const a = make();
    const b = make();
    for (let i = 0; i < 500; i++) {
      const s1 = a.score(x[i]!, t[i]!);
      const s2 = a.score(x[i]!, t[i]!);
      expect(s1).toBe(s2);
      a.learn(x[i]!, t[i]!);
      b.learn(x[i]!, t[i]!);
    }
    expect(a.score(x[500]!, t[500]!)).toBe(b.score(x[500]!, t[500]!));
  });

  it("does not mutate its input", () => {
    const copy = x.slice();
    const a = make();
    for (let i = 0; i < 200; i++) a.learn(x[i]!, t[i]!);
    expect(x).toEqual(copy);
  });

  it("serialises to JSON and restores exactly (identical next scores)", () => {
    const a = make();
    for (let i = 0; i < n / 2; i++) a.learn(x[i]!, t[i]!);
    const state = JSON.parse(JSON.stringify(a.serialize())) as unknown;
    expect((state as { kind: string }).kind).toBe(a.kind);
    const b = restore(state);
    for (let i = n / 2; i < n; i++) {
      expect(b.score(x[i]!, t[i]!)).toBe(a.score(x[i]!, t[i]!));
      a.learn(x[i]!, t[i]!);
      b.learn(x[i]!, t[i]!);
    }
    expect(() => restore({ ...(state as object), kind: "nope" })).toThrow();
    expect(() => restore({ ...(state as object), version: 999 })).toThrow();
  });

  it("same construction, same output", () => {
    const a = make();
    const b = make();
    for (let i = 0; i < 1000; i++) {
      a.learn(x[i]!, t[i]!);
      b.learn(x[i]!, t[i]!);
      expect(a.score(x[i + 1]!, t[i + 1]!)).toBe(b.score(x[i + 1]!, t[i + 1]!));
    }
  });

  it("handles missing values (NaN)", () => {
    const a = make();
    for (let i = 0; i < 1000; i++) {
      const v = i % 7 === 3 ? NaN : x[i]!;
      expect(() => a.learn(v, t[i]!)).not.toThrow();
      const s = a.score(x[i + 1]!, t[i + 1]!);
      expect(Number.isFinite(s)).toBe(true);
      expect(s).toBeGreaterThanOrEqual(0);
    }
    expect(a.score(NaN, t[1000]!)).toBe(0);
  });

  it("is better than chance on a labelled case", () => {
    const a = make();
    const s = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = a.score(x[i]!, t[i]!);
      a.learn(x[i]!, t[i]!);
    }
    const from = 300;
    expect(auc(s.subarray(from), y.subarray(from))).toBeGreaterThan(opts.minAuc ?? 0.8);
  });
}

/** Labelled multivariate points: a Gaussian-ish cluster in [0.3,0.7]^d with 2 % outliers. */
export function labelledPoints(n: number, dims: number, seed = 2): { X: Float64Array[]; y: Uint8Array } {
  const rng = new Rng(seed);
  const X: Float64Array[] = [];
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = new Float64Array(dims);
    const out = i > 600 && rng.next() < 0.02;
    for (let d = 0; d < dims; d++) v[d] = out ? (rng.next() < 0.5 ? 0.05 : 0.95) * (0.9 + 0.1 * rng.next()) : 0.45 + 0.1 * (rng.next() + rng.next() - 1);
    y[i] = out ? 1 : 0;
    X.push(v);
  }
  return { X, y };
}

export function multivariateConformance(
  make: () => MultivariateDetector,
  restore: (state: unknown) => MultivariateDetector,
  opts: { dims: number; n?: number; minAuc?: number },
): void {
  const n = opts.n ?? 2000;
  const { X, y } = labelledPoints(n, opts.dims);

  it("does not mutate its input and score() is pure", () => {
    const a = make();
    for (let i = 0; i < 600; i++) {
      const c = X[i]!.slice();
      a.learn(X[i]!);
      expect(X[i]).toEqual(c);
    }
    const s1 = a.score(X[600]!);
    expect(a.score(X[600]!)).toBe(s1);
  });

  it("serialises to JSON and restores exactly", () => {
    const a = make();
    for (let i = 0; i < n / 2; i++) a.learn(X[i]!);
    const b = restore(JSON.parse(JSON.stringify(a.serialize())));
    for (let i = n / 2; i < n; i++) {
      expect(b.score(X[i]!)).toBe(a.score(X[i]!));
      a.learn(X[i]!);
      b.learn(X[i]!);
    }
    expect(() => restore({ ...(a.serialize() as object), kind: "nope" })).toThrow();
  });

  it("same seed, same output", () => {
    const a = make();
    const b = make();
    for (let i = 0; i < n; i++) {
      expect(a.score(X[i]!)).toBe(b.score(X[i]!));
      a.learn(X[i]!);
      b.learn(X[i]!);
    }
  });

  it("is better than chance on a labelled case", () => {
    const a = make();
    const s = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = a.score(X[i]!);
      a.learn(X[i]!);
    }
    expect(auc(s.subarray(600), y.subarray(600))).toBeGreaterThan(opts.minAuc ?? 0.8);
  });
}

import { describe, expect, it } from "vitest";
import { labelledPoints, multivariateConformance } from "./conformance";
import { HalfSpaceTrees } from "./half-space-trees";
import { IsolationForest } from "./isolation-forest";

describe("half-space trees conformance", () => {
  multivariateConformance(() => new HalfSpaceTrees({ dims: 6, trees: 25, height: 8, window: 250, seed: 3 }), (s) => HalfSpaceTrees.restore(s), { dims: 6 });
});

describe("isolation forest conformance", () => {
  multivariateConformance(
    () => new IsolationForest({ dims: 6, trees: 50, sample: 128, window: 512, retrainEvery: 128, seed: 3 }),
    (s) => IsolationForest.restore(s),
    { dims: 6 },
  );
});

describe("half-space trees", () => {
  it("known answer: no score before the first window, outliers score above inliers after", () => {
    const h = new HalfSpaceTrees({ dims: 2, trees: 25, height: 10, window: 100, seed: 1 });
    const inlier = new Float64Array([0.5, 0.5]);
    const outlier = new Float64Array([0.02, 0.97]);
    expect(h.score(inlier)).toBe(0);
    for (let i = 0; i < 200; i++) h.learn(new Float64Array([0.5 + 0.01 * Math.sin(i), 0.5 + 0.01 * Math.cos(i)]));
    expect(h.score(outlier)).toBeGreaterThan(h.score(inlier) + 3);
    // every reference mass lands in the inlier region: Σ ref·2^depth for the inlier equals
    // trees·window·(2^height) / 2^0 at most
    expect(h.score(inlier)).toBeLessThan(1);
  });
});

describe("isolation forest", () => {
  it("the trained forest is a persistable artifact", () => {
    const f = new IsolationForest({ dims: 3, trees: 20, sample: 64, window: 256, retrainEvery: 64, seed: 5 });
    const { X } = labelledPoints(300, 3);
    for (const x of X) f.learn(x);
    expect(f.trained).toBe(true);
    const model = f.exportModel()!;
    const m = IsolationForest.importModel(JSON.parse(JSON.stringify(model)) as Record<string, unknown>);
    expect(m.trees).toBe(20);
    expect(Array.from(m.dim)).toEqual(Array.from(IsolationForest.importModel(model).dim));
  });

  it("known answer: path-length score ≈ 0.5 for a typical point, > 0.6 for an isolated one", () => {
    const f = new IsolationForest({ dims: 2, trees: 100, sample: 256, window: 1024, retrainEvery: 1024, seed: 9 });
    const { X } = labelledPoints(1024, 2, 11);
    for (const x of X.slice(0, 600)) f.learn(x);
    f.train();
    expect(f.score(new Float64Array([0.5, 0.5]))).toBeLessThan(0.55);
    expect(f.score(new Float64Array([0.98, 0.02]))).toBeGreaterThan(0.6);
  });
});

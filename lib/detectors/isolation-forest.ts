/**
 * Isolation Forest retrained on a sliding window; the trained forest is a persistable artifact.
 *
 * Paper: F. T. Liu, K. M. Ting & Z.-H. Zhou, "Isolation Forest", ICDM 2008 (and "Isolation-based
 * anomaly detection", TKDD 2012).
 *
 * Points enter a ring window of `window` feature vectors. Every `retrainEvery` points (once ≥
 * `sample` points are in the window) a new forest of `trees` isolation trees is grown, each on
 * `sample` points drawn without replacement (seeded RNG), height limit ⌈log2 sample⌉. Score =
 * 2^(−E[h(x)]/c(sample)) ∈ (0,1), c(n) = 2H(n−1) − 2(n−1)/n; ≈0.5 is normal, → 1 anomalous.
 * Trees are stored as flat arrays of a complete binary tree (split dim, split value, leaf size).
 *
 * Parameters: trees (50), sample ψ (128), window (1024), retrainEvery (256), seed. Warm-up: no
 * score (0) until the first forest is trained (after `sample` points). Cost: scoring O(T·log ψ);
 * training O(T·ψ·log ψ) every `retrainEvery` points (≈ O(T·ψ·log ψ / retrainEvery) amortised).
 */
import { checkEnvelope, decodeF64, decodeI32, encodeF64, encodeI32, getNumber, getObject, getString, readParams, type StateEnvelope } from "./codec";
import { Rng } from "./rng";
import type { MultivariateDetector } from "./types";

export interface IsolationForestParams {
  dims: number;
  trees: number;
  sample: number;
  window: number;
  retrainEvery: number;
  seed: number;
}

/** The parameters but `dims` (which the caller always gives). */
export const DEFAULT_ISOLATION_FOREST: Omit<IsolationForestParams, "dims"> = { trees: 50, sample: 128, window: 1024, retrainEvery: 256, seed: 42 };

function cFactor(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + 0.5772156649) - (2 * (n - 1)) / n;
}

/** A trained forest: the persistable artifact. */
export interface IsolationForestModel {
  trees: number;
  height: number;
  sample: number;
  dims: number;
  /** per node: split dimension, or −1 for a leaf, −2 for unused */
  dim: Int32Array;
  val: Float64Array;
  /** leaf sizes */
  size: Int32Array;
}

export class IsolationForest implements MultivariateDetector {
  static readonly KIND = "isolation-forest";
  static readonly VERSION = 1;
  readonly kind = IsolationForest.KIND;
  readonly params: IsolationForestParams;
  private rng: Rng;
  private buf: Float64Array;
  private filled = 0;
  private head = 0;
  private sinceTrain = 0;
  private model: IsolationForestModel | null = null;
  private readonly idx: Int32Array;

  constructor(params: Partial<IsolationForestParams> & { dims: number }) {
    this.params = { ...DEFAULT_ISOLATION_FOREST, ...params };
    if (this.params.window < this.params.sample) this.params.window = this.params.sample;
    this.rng = new Rng(this.params.seed);
    this.buf = new Float64Array(this.params.window * this.params.dims);
    this.idx = new Int32Array(this.params.window);
  }

  get dims(): number {
    return this.params.dims;
  }

  get trained(): boolean {
    return this.model !== null;
  }

  /** Trains a forest on the current window now. */
  train(): void {
    const { trees, dims } = this.params;
    const n = this.filled;
    if (n < 2) return;
    const sample = Math.min(this.params.sample, n);
    const height = Math.max(1, Math.ceil(Math.log2(sample)));
    const nodes = (1 << (height + 1)) - 1;
    const m: IsolationForestModel = {
      trees,
      height,
      sample,
      dims,
      dim: new Int32Array(trees * nodes).fill(-2),
      val: new Float64Array(trees * nodes),
      size: new Int32Array(trees * nodes),
    };
    const idx = this.idx;
    for (let t = 0; t < trees; t++) {
      for (let j = 0; j < n; j++) idx[j] = j;
      // partial Fisher-Yates: first `sample` entries are the subsample
      for (let j = 0; j < sample; j++) {
        const k = j + this.rng.int(n - j);
        const tmp = idx[j]!;
        idx[j] = idx[k]!;
        idx[k] = tmp;
      }
      this.grow(m, t * nodes, 0, 0, height, 0, sample);
    }
    this.model = m;
    this.sinceTrain = 0;
  }

  private grow(m: IsolationForestModel, base: number, node: number, depth: number, height: number, from: number, to: number): void {
    const n = to - from;
    const dims = this.params.dims;
    const idx = this.idx;
    const buf = this.buf;
    if (depth >= height || n <= 1) {
      m.dim[base + node] = -1;
      m.size[base + node] = n;
      return;
    }
    // pick a dimension with spread (a few tries), split uniformly in its range
    let q = -1;
    let lo = 0;
    let hi = 0;
    for (let attempt = 0; attempt < dims + 2; attempt++) {
      const d = this.rng.int(dims);
      let a = Infinity;
      let b = -Infinity;
      for (let j = from; j < to; j++) {
        const v = buf[idx[j]! * dims + d]!;
        if (v < a) a = v;
        if (v > b) b = v;
      }
      if (b > a) {
        q = d;
        lo = a;
        hi = b;
        break;
      }
    }
    if (q < 0) {
      m.dim[base + node] = -1;
      m.size[base + node] = n;
      return;
    }
    const split = this.rng.uniform(lo, hi);
    // partition idx[from..to) by split
    let i = from;
    let j = to - 1;
    while (i <= j) {
      if (buf[idx[i]! * dims + q]! < split) i++;
      else {
        const tmp = idx[i]!;
        idx[i] = idx[j]!;
        idx[j] = tmp;
        j--;
      }
    }
    m.dim[base + node] = q;
    m.val[base + node] = split;
    this.grow(m, base, 2 * node + 1, depth + 1, height, from, i);
    this.grow(m, base, 2 * node + 2, depth + 1, height, i, to);
  }

  score(x: Float64Array): number {
    const m = this.model;
    if (m === null) return 0;
    const nodes = (1 << (m.height + 1)) - 1;
    let sum = 0;
    for (let t = 0; t < m.trees; t++) {
      const base = t * nodes;
      let node = 0;
      let depth = 0;
      while (m.dim[base + node]! >= 0) {
        const d = m.dim[base + node]!;
        node = x[d]! < m.val[base + node]! ? 2 * node + 1 : 2 * node + 2;
        depth++;
      }
      sum += depth + cFactor(m.size[base + node]!);
    }
    return Math.pow(2, -sum / m.trees / cFactor(m.sample));
  }

  learn(x: Float64Array): void {
    const dims = this.params.dims;
    this.buf.set(x.subarray(0, dims), this.head * dims);
    this.head = (this.head + 1) % this.params.window;
    if (this.filled < this.params.window) this.filled++;
    this.sinceTrain++;
    if ((this.model === null && this.filled >= this.params.sample) || this.sinceTrain >= this.params.retrainEvery) {
      if (this.filled >= Math.min(this.params.sample, 16)) this.train();
    }
  }

  update(x: Float64Array): number {
    const s = this.score(x);
    this.learn(x);
    return s;
  }

  /** The trained forest as JSON (null before the first training). */
  exportModel(): Record<string, unknown> | null {
    const m = this.model;
    if (!m) return null;
    return {
      trees: m.trees,
      height: m.height,
      sample: m.sample,
      dims: m.dims,
      dim: encodeI32(m.dim),
      val: encodeF64(m.val),
      size: encodeI32(m.size),
    };
  }

  static importModel(o: Record<string, unknown>): IsolationForestModel {
    const m: IsolationForestModel = {
      trees: getNumber(o, "trees"),
      height: getNumber(o, "height"),
      sample: getNumber(o, "sample"),
      dims: getNumber(o, "dims"),
      dim: decodeI32(getString(o, "dim")),
      val: decodeF64(getString(o, "val")),
      size: decodeI32(getString(o, "size")),
    };
    const nodes = m.trees * ((1 << (m.height + 1)) - 1);
    if (m.dim.length !== nodes || m.val.length !== nodes || m.size.length !== nodes) throw new Error("isolation-forest: model size mismatch");
    return m;
  }

  serialize(): StateEnvelope & Record<string, unknown> {
    return {
      kind: IsolationForest.KIND,
      version: IsolationForest.VERSION,
      params: { ...this.params },
      rng: this.rng.state,
      buf: encodeF64(this.buf),
      filled: this.filled,
      head: this.head,
      sinceTrain: this.sinceTrain,
      model: this.exportModel(),
    };
  }

  static restore(state: unknown): IsolationForest {
    const s = checkEnvelope(state, IsolationForest.KIND, IsolationForest.VERSION);
    const f = new IsolationForest({ ...readParams(s, DEFAULT_ISOLATION_FOREST), dims: getNumber(getObject(s, "params"), "dims") });
    f.rng = Rng.fromState(getNumber(s, "rng"));
    const buf = decodeF64(getString(s, "buf"));
    if (buf.length !== f.buf.length) throw new Error("isolation-forest: window size mismatch");
    f.buf = buf;
    f.filled = getNumber(s, "filled");
    f.head = getNumber(s, "head");
    f.sinceTrain = getNumber(s, "sinceTrain");
    const m = s.model;
    f.model = m === null || m === undefined ? null : IsolationForest.importModel(getObject(s, "model"));
    return f;
  }
}

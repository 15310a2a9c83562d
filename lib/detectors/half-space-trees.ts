/**
 * Half-Space Trees: streaming anomaly detection by mass estimation in random half-space splits.
 *
 * Paper: S. C. Tan, K. M. Ting & T. F. Liu, "Fast anomaly detection for streaming data",
 * IJCAI 2011.
 *
 * Each tree is a full binary tree of height h over a randomly perturbed work space of the unit
 * cube (features must be in [0,1]); each internal node splits a random dimension at the middle
 * of its range. Two mass profiles per node: `ref` (last complete window) and `lat` (current
 * window); every `window` points lat becomes ref. Score(x) = Σ_trees ref[node]·2^depth at the
 * deepest node on x's path whose ref mass ≥ sizeLimit (low mass = anomalous). The raw anomaly
 * score returned is log2(T·window) − log2(1 + Score), so higher = more anomalous.
 *
 * Parameters: trees T (25), height h (15 in the paper), window ψ (250), seed. Warm-up: one window
 * (scores are 0 until the first reference profile exists). Cost: O(T·h) per point, memory
 * T·2^(h+1) nodes (two Int32 masses + split dim + split value each).
 */
import { checkEnvelope, decodeF64, decodeI32, encodeF64, encodeI32, getNumber, getObject, getString, readParams, type StateEnvelope } from "./codec";
import { Rng } from "./rng";
import type { MultivariateDetector } from "./types";

export interface HalfSpaceTreesParams {
  dims: number;
  trees: number;
  height: number;
  window: number;
  seed: number;
}

/** The parameters but `dims` (which the caller always gives). */
export const DEFAULT_HALF_SPACE_TREES: Omit<HalfSpaceTreesParams, "dims"> = { trees: 25, height: 15, window: 250, seed: 42 };

export class HalfSpaceTrees implements MultivariateDetector {
  static readonly KIND = "half-space-trees";
  static readonly VERSION = 1;
  readonly kind = HalfSpaceTrees.KIND;
  readonly params: HalfSpaceTreesParams;
  private declare readonly nodes: number;
  private readonly splitDim: Int32Array;
  private readonly splitVal: Float64Array;
  private ref: Int32Array;
  private lat: Int32Array;
  private count = 0;
  private windows = 0;
  private declare readonly sizeLimit: number;

  constructor(params: Partial<HalfSpaceTreesParams> & { dims: number }) {
    this.params = { ...DEFAULT_HALF_SPACE_TREES, ...params };
    const { trees, height, dims } = this.params;
    this.nodes = (1 << (height + 1)) - 1;
    const total = trees * this.nodes;
    this.splitDim = new Int32Array(total);
    this.splitVal = new Float64Array(total);
    this.ref = new Int32Array(total);
    this.lat = new Int32Array(total);
    this.sizeLimit = Math.max(1, Math.floor(0.1 * this.params.window));
    const rng = new Rng(this.params.seed);
    const lo = new Float64Array(dims);
    const hi = new Float64Array(dims);
    for (let t = 0; t < trees; t++) {
      for (let d = 0; d < dims; d++) {
        const s = rng.next();
        const r = 2 * Math.max(s, 1 - s);
        lo[d] = s - r;
        hi[d] = s + r;
      }
      this.build(t * this.nodes, 0, 0, lo, hi, rng);
    }
  }

  get dims(): number {
    return this.params.dims;
  }

  private build(base: number, node: number, depth: number, lo: Float64Array, hi: Float64Array, rng: Rng): void {
    if (depth >= this.params.height) return;
    const q = rng.int(this.params.dims);
    const mid = (lo[q]! + hi[q]!) / 2;
    this.splitDim[base + node] = q;
    this.splitVal[base + node] = mid;
    const h = hi[q]!;
    hi[q] = mid;
    this.build(base, 2 * node + 1, depth + 1, lo, hi, rng);
    hi[q] = h;
    const l = lo[q]!;
    lo[q] = mid;
    this.build(base, 2 * node + 2, depth + 1, lo, hi, rng);
    lo[q] = l;
  }

  score(x: Float64Array): number {
    if (this.windows === 0) return 0;
    const { trees, height } = this.params;
    const N = this.nodes;
    const limit = this.sizeLimit;
    let total = 0;
    for (let t = 0; t < trees; t++) {
      const base = t * N;
      let node = 0;
      let depth = 0;
      while (true) {
        const m = this.ref[base + node]!;
        if (depth >= height || m < limit) {
          total += m * (1 << depth);
          break;
        }
        const v = x[this.splitDim[base + node]!]!;
        node = v < this.splitVal[base + node]! ? 2 * node + 1 : 2 * node + 2;
        depth++;
      }
    }
    return Math.log2(trees * this.params.window) - Math.log2(1 + total);
  }

  learn(x: Float64Array): void {
    const { trees, height } = this.params;
    const N = this.nodes;
    for (let t = 0; t < trees; t++) {
      const base = t * N;
      let node = 0;
      for (let depth = 0; ; depth++) {
        this.lat[base + node]!++;
        if (depth >= height) break;
        const v = x[this.splitDim[base + node]!]!;
        node = v < this.splitVal[base + node]! ? 2 * node + 1 : 2 * node + 2;
      }
    }
    if (++this.count >= this.params.window) {
      const r = this.ref;
      this.ref = this.lat;
      this.lat = r;
      this.lat.fill(0);
      this.count = 0;
      this.windows++;
    }
  }

  /** score then learn, in one traversal per tree */
  update(x: Float64Array): number {
    const { trees, height } = this.params;
    const N = this.nodes;
    const limit = this.sizeLimit;
    const ref = this.ref;
    const lat = this.lat;
    const sd = this.splitDim;
    const sv = this.splitVal;
    const scoring = this.windows > 0;
    let total = 0;
    for (let t = 0; t < trees; t++) {
      const base = t * N;
      let node = 0;
      let open = scoring;
      for (let depth = 0; ; depth++) {
        const k = base + node;
        lat[k]!++;
        if (open) {
          const m = ref[k]!;
          if (depth >= height || m < limit) {
            total += m * (1 << depth);
            open = false;
          }
        }
        if (depth >= height) break;
        node = x[sd[k]!]! < sv[k]! ? 2 * node + 1 : 2 * node + 2;
      }
    }
    if (++this.count >= this.params.window) {
      const r = this.ref;
      this.ref = this.lat;
      this.lat = r;
      this.lat.fill(0);
      this.count = 0;
      this.windows++;
    }
    return scoring ? Math.log2(trees * this.params.window) - Math.log2(1 + total) : 0;
  }

  serialize(): StateEnvelope & Record<string, unknown> {
    // the tree structure is re-derived from the seed; only the mass profiles are stored
    return {
      kind: HalfSpaceTrees.KIND,
      version: HalfSpaceTrees.VERSION,
      params: { ...this.params },
      count: this.count,
      windows: this.windows,
      ref: encodeI32(this.ref),
      lat: encodeI32(this.lat),
      check: encodeF64(this.splitVal.subarray(0, Math.min(8, this.splitVal.length))),
    };
  }

  static restore(state: unknown): HalfSpaceTrees {
    const s = checkEnvelope(state, HalfSpaceTrees.KIND, HalfSpaceTrees.VERSION);
    const h = new HalfSpaceTrees({ ...readParams(s, DEFAULT_HALF_SPACE_TREES), dims: getNumber(getObject(s, "params"), "dims") });
    const ref = decodeI32(getString(s, "ref"));
    const lat = decodeI32(getString(s, "lat"));
    if (ref.length !== h.ref.length || lat.length !== h.lat.length) throw new Error("half-space-trees: mass size mismatch");
    const check = decodeF64(getString(s, "check"));
    for (let i = 0; i < check.length; i++) {
      if (!Object.is(check[i], h.splitVal[i])) throw new Error("half-space-trees: tree structure mismatch (RNG changed?)");
    }
    h.ref = ref;
    h.lat = lat;
    h.count = getNumber(s, "count");
    h.windows = getNumber(s, "windows");
    return h;
  }
}

import type { SparkColumns } from "../../repos/storage/columns";

/** Sparkline points kept per stream (the stream row holds the same number). */
export const SPARK_KEEP = 60;

/** What the rings need of a stream's state. */
export interface SparkState {
  /** the stream's dense slot: its ring is row `slot` */
  slot: number;
  /** points pushed since the last `takeAll` (the ring keeps the newest SPARK_KEEP) */
  sparkN: number;
}

function grownF64(a: Float64Array, cap: number) {
  const b = new Float64Array(cap);
  b.set(a);
  return b;
}

/**
 * Sparkline points scored since the last flush of stream rows, per stream: rings of the newest
 * SPARK_KEEP times, values and scores (in three blocks) at row `slot` of one shared array
 * (1.4 kB per stream, allocated once; no buffer per stream or per flush, nothing for the GC to
 * trace). A flush puts each ring in time order in place and the stream-row write reads them
 * from here, before the rings take new points.
 */
export class SparkRings {
  private static readonly ROW = 3 * SPARK_KEEP;
  private data = new Float64Array(0);
  private readonly rotateScratch = new Float64Array(SPARK_KEEP);

  /**
   * Makes room for the ring at `slot` (when the stream first appears: growing the array is a
   * per-stream cost, and touching fresh memory is expensive here, so it is not left to the
   * first scored point).
   */
  reserve(slot: number): void {
    const need = (slot + 1) * SparkRings.ROW;
    if (this.data.length < need) this.data = grownF64(this.data, Math.max(need, 2 * this.data.length, 1024 * SparkRings.ROW));
  }

  push(st: SparkState, t: number, v: number, s: number): void {
    const k = st.slot * SparkRings.ROW + (st.sparkN % SPARK_KEEP);
    this.data[k] = t;
    this.data[k + SPARK_KEEP] = v;
    this.data[k + 2 * SPARK_KEEP] = s;
    st.sparkN++;
  }

  /**
   * The streams' points since the last flush (each stream's newest SPARK_KEEP, in time order),
   * as ranges of the rings: valid until the next `push`. Empties the rings.
   */
  takeAll(states: SparkState[]): SparkColumns {
    const m = states.length;
    const cols = { data: this.data, t: new Int32Array(m), v: new Int32Array(m), s: new Int32Array(m), count: new Int32Array(m) };
    states.forEach((st, r) => {
      const n = st.sparkN;
      st.sparkN = 0;
      const row = st.slot * SparkRings.ROW;
      // a ring that has wrapped starts at its next write position: rotate it to the front
      if (n > SPARK_KEEP && n % SPARK_KEEP !== 0) for (let b = 0; b < 3; b++) this.rotate(row + b * SPARK_KEEP, n % SPARK_KEEP);
      cols.t[r] = row;
      cols.v[r] = row + SPARK_KEEP;
      cols.s[r] = row + 2 * SPARK_KEEP;
      cols.count[r] = n < SPARK_KEEP ? n : SPARK_KEEP;
    });
    return cols;
  }

  /** Rotates the SPARK_KEEP entries at `at` left by `by`. */
  private rotate(at: number, by: number): void {
    const tmp = this.rotateScratch;
    for (let j = 0; j < SPARK_KEEP; j++) tmp[j] = this.data[at + ((by + j) % SPARK_KEEP)]!;
    this.data.set(tmp, at);
  }
}

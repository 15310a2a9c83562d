import { grownFloat64, grownInt32 } from "@/lib/collections/grow";

/** One clock domain's late samples in scoring order (see `LateSamples.byDomain`). */
export interface LateGroup {
  domain: number;
  ids: Int32Array;
  tsMs: Float64Array;
  values: Float64Array;
  seq: Float64Array;
  /** Group g is rows [groupEnds[g-1], groupEnds[g]): each stream at most once, groups in time order. */
  groupEnds: number[];
}

/**
 * Samples of one round that arrived behind their clock domain, which had already scored their
 * step (history sent after newer samples, a remote_write shard that lags the others). They are
 * scored, not dropped: in time order on a scratch copy of their streams' models (see
 * `EngineAdapter.scoreLate`), so that the live state is not disturbed. Scratch columns, reused
 * every round; late samples are the exception, so sorting them is cheap.
 */
export class LateSamples {
  n = 0;
  private domain = new Int32Array(64);
  private ids = new Int32Array(64);
  private ts = new Float64Array(64);
  private values = new Float64Array(64);
  private seq = new Float64Array(64);

  clear(): void {
    this.n = 0;
  }

  /** Stream id, time and commit (message) of sample k, in the order they were put. */
  at(k: number): { id: number; tsMs: number; seq: number } {
    return { id: this.ids[k]!, tsMs: this.ts[k]!, seq: this.seq[k]! };
  }

  /** Keeps only the samples whose commit (message) `keep` accepts, in order. */
  retain(keep: (seq: number) => boolean): void {
    let n = 0;
    for (let k = 0; k < this.n; k++) {
      if (!keep(this.seq[k]!)) continue;
      this.domain[n] = this.domain[k]!;
      this.ids[n] = this.ids[k]!;
      this.ts[n] = this.ts[k]!;
      this.values[n] = this.values[k]!;
      this.seq[n] = this.seq[k]!;
      n++;
    }
    this.n = n;
  }

  put(domain: number, id: number, tsMs: number, value: number, seq: number): void {
    const k = this.n;
    if (k === this.ids.length) {
      this.domain = grownInt32(this.domain, 2 * k);
      this.ids = grownInt32(this.ids, 2 * k);
      this.ts = grownFloat64(this.ts, 2 * k);
      this.values = grownFloat64(this.values, 2 * k);
      this.seq = grownFloat64(this.seq, 2 * k);
    }
    this.domain[k] = domain;
    this.ids[k] = id;
    this.ts[k] = tsMs;
    this.values[k] = value;
    this.seq[k] = seq;
    this.n = k + 1;
  }

  /**
   * Per domain, the samples in time order (commit order among equal times), one per (stream,
   * time): a later commit of the same sample replaces the earlier. Split into groups in which
   * each stream occurs once, so that one model step scores each group.
   */
  byDomain(): LateGroup[] {
    const order = Array.from({ length: this.n }, (_, k) => k).sort(
      (a, b) => this.domain[a]! - this.domain[b]! || this.ts[a]! - this.ts[b]! || this.seq[a]! - this.seq[b]!,
    );
    const out: LateGroup[] = [];
    let i = 0;
    while (i < order.length) {
      const domain = this.domain[order[i]!]!;
      let j = i;
      while (j < order.length && this.domain[order[j]!] === domain) j++;
      // the newest commit of each (stream, time)
      const last = new Map<string, number>();
      for (let k = i; k < j; k++) last.set(`${this.ids[order[k]!]}@${this.ts[order[k]!]}`, order[k]!);
      const rows = order.slice(i, j).filter((r) => last.get(`${this.ids[r]}@${this.ts[r]}`) === r);
      const g: LateGroup = {
        domain,
        ids: new Int32Array(rows.length),
        tsMs: new Float64Array(rows.length),
        values: new Float64Array(rows.length),
        seq: new Float64Array(rows.length),
        groupEnds: [],
      };
      let inGroup = new Set<number>();
      rows.forEach((r, k) => {
        const id = this.ids[r]!;
        if (inGroup.has(id)) {
          g.groupEnds.push(k);
          inGroup = new Set();
        }
        inGroup.add(id);
        g.ids[k] = id;
        g.tsMs[k] = this.ts[r]!;
        g.values[k] = this.values[r]!;
        g.seq[k] = this.seq[r]!;
      });
      if (rows.length) g.groupEnds.push(rows.length);
      out.push(g);
      i = j;
    }
    return out;
  }
}

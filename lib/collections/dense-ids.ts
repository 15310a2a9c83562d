/** Ids at or above this go to a Map instead of the direct table (which would grow too large). */
const TABLE_LIMIT = 1 << 24;

/**
 * Numbers stream ids densely (0, 1, 2, … in order of first sight), so per-stream state can live
 * in typed arrays indexed by slot. Database ids are serials, so a direct table indexed by id
 * (a typed-array read per sample) covers them; ids beyond `TABLE_LIMIT` fall back to a Map.
 */
export class DenseIds {
  /** slot + 1 per id (0: not seen) */
  private table = new Int32Array(0);
  private far = new Map<number, number>();
  private n = 0;

  get size(): number {
    return this.n;
  }

  /** The id's slot, assigning the next one on first sight. */
  slotOf(id: number): number {
    const s = this.table[id];
    if (s !== undefined && s > 0) return s - 1;
    return this.assign(id);
  }

  private assign(id: number): number {
    if (Number.isInteger(id) && id >= 0 && id < TABLE_LIMIT) {
      if (id >= this.table.length) {
        const t = new Int32Array(Math.min(TABLE_LIMIT, Math.max(1024, 2 * id + 2)));
        t.set(this.table);
        this.table = t;
      }
      this.table[id] = ++this.n;
      return this.n - 1;
    }
    let s = this.far.get(id);
    if (s === undefined) this.far.set(id, (s = this.n++));
    return s;
  }
}

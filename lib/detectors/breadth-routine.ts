/**
 * The table's daily routine of breadth: how many streams moved unusually together at this time
 * of day on each of the last days. A server whose metrics all step up when its daily batch
 * starts at 13:45 makes the same dozen streams jump on the same step every day; the breadth
 * score alone sees a count it meets once a day (about 2.5 decades rarer than an ordinary step),
 * and alarmed every afternoon. A count the table reached within the hour on each of the last
 * `cycles` days is its routine, not news.
 *
 * The day (UTC, the data's own time) is cut into `bins` hour bins; each keeps the largest count
 * of its steps, for the day being filled and the `cycles` days before it. `routine(t)` is the
 * smallest, over those earlier days, of the largest count at t's bin and its two neighbours, 0
 * when one of those days is missing (a routine has to hold every day). Chance alone rarely makes
 * one: with a large count on a share q of steps, a 3-hour window holds one on three days running
 * with probability about (36q)³, under 1e-4 for q = 1e-3.
 * Memory: (cycles + 1)·(bins + 1) doubles per table; cost O(cycles) per step.
 */
import { z } from "zod";
import { decodeF64, encodeF64 } from "./codec";

const DAY_MS = 86_400_000;

const ZSaved = z.object({ cycles: z.number().int().min(1).max(31), bins: z.number().int().min(1).max(1440), days: z.string(), max: z.string() });
export type BreadthRoutineState = z.infer<typeof ZSaved>;

export class BreadthRoutine {
  private readonly rows: number;
  /** Per row: the day number it holds (NaN: none). Row of day d is d mod rows. */
  private days: Float64Array;
  /** Row-major rows × bins: the largest count of each hour bin of that day. */
  private max: Float64Array;

  constructor(
    private readonly cycles = 3,
    private readonly bins = 24,
  ) {
    this.rows = cycles + 1;
    this.days = new Float64Array(this.rows).fill(Number.NaN);
    this.max = new Float64Array(this.rows * bins);
  }

  private at(tsMs: number): { day: number; bin: number } {
    const day = Math.floor(tsMs / DAY_MS);
    const bin = Math.min(this.bins - 1, Math.floor(((tsMs - day * DAY_MS) / DAY_MS) * this.bins));
    return { day, bin };
  }

  private row(day: number): number {
    const r = day % this.rows;
    return r < 0 ? r + this.rows : r;
  }

  /** The count the table reached near this time on every one of the last `cycles` days. */
  routine(tsMs: number): number {
    if (!Number.isFinite(tsMs)) return 0;
    const { day, bin } = this.at(tsMs);
    const B = this.bins;
    let out = Infinity;
    for (let k = 1; k <= this.cycles; k++) {
      const r = this.row(day - k);
      if (this.days[r] !== day - k) return 0;
      let m = 0;
      for (let d = -1; d <= 1; d++) {
        const v = this.max[r * B + ((bin + d + B) % B)]!;
        if (v > m) m = v;
      }
      if (m < out) out = m;
    }
    return out;
  }

  /** Records this step's count in its day's hour bin. */
  note(tsMs: number, count: number): void {
    if (!Number.isFinite(tsMs)) return;
    const { day, bin } = this.at(tsMs);
    const r = this.row(day);
    const B = this.bins;
    if (this.days[r] !== day) {
      // a later day reuses the row of the day `rows` before it; an earlier one (data out of order) is ignored
      if (this.days[r]! > day) return;
      this.days[r] = day;
      this.max.fill(0, r * B, (r + 1) * B);
    }
    if (count > this.max[r * B + bin]!) this.max[r * B + bin] = count;
  }

  serialize(): BreadthRoutineState {
    return { cycles: this.cycles, bins: this.bins, days: encodeF64(this.days), max: encodeF64(this.max) };
  }

  /** A saved routine, or a fresh one when `s` is absent or of another shape (states saved before it). */
  static restore(s: unknown): BreadthRoutine {
    const saved = ZSaved.safeParse(s);
    if (!saved.success) return new BreadthRoutine();
    const r = new BreadthRoutine(saved.data.cycles, saved.data.bins);
    const days = decodeF64(saved.data.days);
    const max = decodeF64(saved.data.max);
    if (days.length !== r.days.length || max.length !== r.max.length) return new BreadthRoutine();
    r.days = days;
    r.max = max;
    return r;
  }
}

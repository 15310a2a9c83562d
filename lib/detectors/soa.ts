/**
 * Struct-of-arrays storage for a bank of N streams: one Float64Array per field, `stride` values
 * per stream. Banks keep hot loops over typed arrays (no objects per stream, no per-point
 * allocation); adding a stream may grow (double) the arrays, removing one swap-moves the last
 * stream into the freed slot so the bank stays dense.
 */
import { decodeF64Column, encodeF64Column, StateError, type EncodedColumn } from "./codec";

export class SoA<K extends string> {
  cols: Record<K, Float64Array>;
  cap: number;
  readonly keys: K[];

  constructor(
    readonly strides: Record<K, number>,
    cap = 4,
  ) {
    this.cap = Math.max(1, cap);
    this.keys = Object.keys(strides) as K[];
    const cols = {} as Record<K, Float64Array>;
    for (const k of this.keys) cols[k] = new Float64Array(this.cap * strides[k]);
    this.cols = fastProperties(cols);
  }

  /** Makes room for at least `n` streams; returns true when arrays were reallocated. */
  ensure(n: number): boolean {
    if (n <= this.cap) return false;
    let cap = this.cap;
    while (cap < n) cap *= 2;
    this.grow(cap);
    return true;
  }

  /**
   * Makes room for `n` streams in one reallocation, before adding many (20,000 new streams
   * one by one would double the arrays a dozen times, and leave them up to twice too large).
   * Grows to at least twice the current capacity, so that small repeated reservations stay
   * amortised O(1) per stream. Returns true when arrays were reallocated.
   */
  reserve(n: number): boolean {
    if (n <= this.cap) return false;
    this.grow(Math.max(n, 2 * this.cap));
    return true;
  }

  private grow(cap: number): void {
    for (const k of this.keys) {
      const a = new Float64Array(cap * this.strides[k]);
      a.set(this.cols[k]);
      this.cols[k] = a;
    }
    this.cols = fastProperties(this.cols);
    this.cap = cap;
  }

  /** Copies stream `from` over stream `to` (all fields). */
  move(from: number, to: number): void {
    if (from === to) return;
    for (const k of this.keys) {
      const s = this.strides[k];
      const a = this.cols[k];
      // most fields are one value per stream: a plain copy, not a builtin call
      if (s === 1) a[to] = a[from]!;
      else a.copyWithin(to * s, from * s, from * s + s);
    }
  }

  /** Zeroes stream `i` (all fields). */
  clear(i: number): void {
    for (const k of this.keys) {
      const s = this.strides[k];
      const a = this.cols[k];
      // (every added stream clears ~100 fields: `fill` per one-value field cost 20,000 new streams 0.15 s)
      if (s === 1) a[i] = 0;
      else a.fill(0, i * s, i * s + s);
    }
  }

  /** Copies of the fields of streams `slots` (in that order) as if they were slots 0, 1, …. */
  gatherSlots(slots: ArrayLike<number>): Record<K, Float64Array> {
    const out = {} as Record<K, Float64Array>;
    for (const k of this.keys) {
      const st = this.strides[k];
      const src = this.cols[k];
      const a = new Float64Array(slots.length * st);
      for (let j = 0; j < slots.length; j++) {
        const i = slots[j]!;
        if (st === 1) a[j] = src[i]!;
        else a.set(src.subarray(i * st, i * st + st), j * st);
      }
      out[k] = a;
    }
    return out;
  }

  serialize(n: number): Record<string, EncodedColumn> {
    const out: Record<string, EncodedColumn> = {};
    for (const k of this.keys) out[k] = encodeF64Column(this.cols[k], n * this.strides[k]);
    return out;
  }

  /** Restores `n` streams from `serialize(n)` output; missing or mis-sized fields throw. */
  load(n: number, data: unknown): void {
    if (typeof data !== "object" || data === null) throw new StateError("bank columns missing");
    const d = data as Record<string, unknown>;
    this.ensure(n);
    for (const k of this.keys) {
      const a = decodeF64Column(d[k]);
      if (a === null) throw new StateError(`bank column "${k}" missing`);
      if (a.length !== n * this.strides[k]) throw new StateError(`bank column "${k}" has wrong length`);
      this.cols[k].set(a);
    }
  }
}

/**
 * Objects that receive many computed keys one by one end up in V8's slow "dictionary" mode,
 * which turns every `cols.x` lookup in the hot loops into a hash probe (Holt-Winters ran at
 * 0.6 M points/s). A spread copy is created with a fixed shape in fast mode.
 */
function fastProperties<T extends object>(o: T): T {
  return { ...o };
}

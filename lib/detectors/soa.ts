/**
 * Struct-of-arrays storage for a bank of N streams: one Float64Array per field, `stride` values
 * per stream. Banks keep hot loops over typed arrays (no objects per stream, no per-point
 * allocation); adding a stream may grow (double) the arrays, removing one swap-moves the last
 * stream into the freed slot so the bank stays dense.
 *
 * Fields of 32-bit words (bit sets) may be kept as Uint32Arrays instead (`words`, in `wcols`):
 * half the memory of doubles, so twice as many streams' words per cache line. They serialise
 * exactly as a Float64Array of the same values would (the state format does not tell them apart).
 */
import { decodeF64Column, isRecord, saveF64Column, StateError, type ColumnForm, type EncodedColumn } from "./codec";

export class SoA<K extends string, W extends string = never> {
  cols: Record<K, Float64Array>;
  wcols: Record<W, Uint32Array>;
  cap: number;
  /** Every field, doubles then words (the serialised order). */
  readonly keys: (K | W)[];
  private readonly fkeys: K[];
  private readonly wkeys: W[];

  constructor(
    readonly strides: Record<K, number>,
    cap = 4,
    readonly wstrides: Record<W, number> = {} as Record<W, number>,
  ) {
    this.cap = Math.max(1, cap);
    this.fkeys = Object.keys(strides) as K[];
    this.wkeys = Object.keys(wstrides) as W[];
    this.keys = [...this.fkeys, ...this.wkeys];
    const cols = {} as Record<K, Float64Array>;
    for (const k of this.fkeys) cols[k] = new Float64Array(this.cap * strides[k]);
    this.cols = fastProperties(cols);
    const wcols = {} as Record<W, Uint32Array>;
    for (const k of this.wkeys) wcols[k] = new Uint32Array(this.cap * wstrides[k]);
    this.wcols = fastProperties(wcols);
  }

  /** Values per stream of field k. */
  private stride(k: K | W): number {
    return (this.strides as Record<string, number>)[k] ?? (this.wstrides as Record<string, number>)[k]!;
  }

  /** Field k's array (doubles or words). */
  private array(k: K | W): Float64Array | Uint32Array {
    return (this.cols as Record<string, Float64Array>)[k] ?? (this.wcols as Record<string, Uint32Array>)[k]!;
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
    for (const k of this.fkeys) {
      const a = new Float64Array(cap * this.strides[k]);
      a.set(this.cols[k]);
      this.cols[k] = a;
    }
    this.cols = fastProperties(this.cols);
    for (const k of this.wkeys) {
      const a = new Uint32Array(cap * this.wstrides[k]);
      a.set(this.wcols[k]);
      this.wcols[k] = a;
    }
    this.wcols = fastProperties(this.wcols);
    this.cap = cap;
  }

  /** Copies stream `from` over stream `to` (all fields). */
  move(from: number, to: number): void {
    if (from === to) return;
    for (const k of this.keys) {
      const s = this.stride(k);
      const a = this.array(k);
      // most fields are one value per stream: a plain copy, not a builtin call
      if (s === 1) a[to] = a[from]!;
      else a.copyWithin(to * s, from * s, from * s + s);
    }
  }

  /** Copies stream `from` of `src` (a store of the same fields and strides) over stream `to` here. */
  copyFrom(src: SoA<K, W>, from: number, to: number): void {
    for (const k of this.keys) {
      const s = this.stride(k);
      if (src.stride(k) !== s) throw new Error(`copyFrom: field ${k} has ${src.stride(k)} values per stream there, ${s} here`);
      const a = this.array(k);
      const b = src.array(k);
      if (s === 1) a[to] = b[from]!;
      else a.set(b.subarray(from * s, from * s + s), to * s);
    }
  }

  /** Zeroes stream `i` (all fields). */
  clear(i: number): void {
    for (const k of this.keys) {
      const s = this.stride(k);
      const a = this.array(k);
      // (every added stream clears ~100 fields: `fill` per one-value field cost 20,000 new streams 0.15 s)
      if (s === 1) a[i] = 0;
      else a.fill(0, i * s, i * s + s);
    }
  }

  /**
   * Copies of the fields of streams `slots` (in that order) as if they were slots 0, 1, …, as
   * doubles (words too: the same columns `serialize` writes, without the base64).
   */
  gatherSlots(slots: ArrayLike<number>): Record<K | W, Float64Array> {
    const out = {} as Record<K | W, Float64Array>;
    for (const k of this.keys) {
      const st = this.stride(k);
      const src = this.array(k);
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

  /** The first `n` streams' fields in `form` (binary: views of the live arrays, see `saveF64Column`). */
  serialize(n: number, form: ColumnForm = "text"): Record<string, EncodedColumn> {
    const out: Record<string, EncodedColumn> = {};
    for (const k of this.fkeys) out[k] = saveF64Column(this.cols[k], n * this.strides[k], form);
    // words as the doubles they are (the format has one column type)
    for (const k of this.wkeys) {
      const len = n * this.wstrides[k];
      out[k] = saveF64Column(Float64Array.from(this.wcols[k].subarray(0, len)), len, form);
    }
    return out;
  }

  /** Restores `n` streams from `serialize(n)` output; missing or mis-sized fields throw. */
  load(n: number, data: unknown): void {
    if (!isRecord(data)) throw new StateError("bank columns missing");
    const d = data;
    this.ensure(n);
    for (const k of this.keys) {
      const a = decodeF64Column(d[k]);
      if (a === null) throw new StateError(`bank column "${k}" missing`);
      if (a.length !== n * this.stride(k)) throw new StateError(`bank column "${k}" has wrong length`);
      // (into words: each double → its uint32, as the bit operations read it)
      this.array(k).set(a);
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

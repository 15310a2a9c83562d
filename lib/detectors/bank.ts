/** Shared plumbing for struct-of-arrays stream banks (add/remove/reset/serialise). */
import { checkEnvelope, getNumber, getObject, readParams, StateError, type ColumnForm, type EncodedColumn, type StateEnvelope } from "./codec";
import { SoA } from "./soa";
import type { StreamBank } from "./types";

export interface BankState<P> extends StateEnvelope {
  params: P;
  size: number;
  cols: Record<string, EncodedColumn>;
}

export abstract class BaseBank<K extends string, P extends object, W extends string = never> implements StreamBank {
  abstract readonly kind: string;
  protected n = 0;
  protected readonly soa: SoA<K, W>;

  /** `wstrides`: fields of 32-bit words (bit sets), kept as Uint32Arrays (see `SoA`). */
  protected constructor(
    readonly params: Readonly<P>,
    strides: Record<K, number>,
    cap = 4,
    wstrides?: Record<W, number>,
  ) {
    this.soa = new SoA(strides, cap, wstrides);
  }

  get size(): number {
    return this.n;
  }

  /** Makes room for `n` streams at once (see `SoA.reserve`); `add` then does not reallocate. */
  reserve(n: number): void {
    this.soa.reserve(n);
  }

  /**
   * Slots from here on were never used since their arrays were allocated, so they are still
   * zero: adding one skips clearing it (writing zeros over fresh memory made 20,000 new streams
   * fault in their whole state up front, most of the time spent adding them).
   */
  private fresh = 0;

  add(): number {
    const i = this.n;
    this.soa.ensure(i + 1);
    this.n++;
    if (i < this.fresh) this.soa.clear(i);
    else this.fresh = i + 1;
    this.init(i);
    return i;
  }

  remove(i: number): void {
    if (i < 0 || i >= this.n) throw new RangeError(`no stream slot ${i}`);
    this.soa.move(this.n - 1, i);
    this.n--;
  }

  reset(i: number): void {
    this.soa.clear(i);
    this.init(i);
  }

  /** Copies the stream in `src`'s slot `from` over slot `to` here (a bank of the same kind and parameters). */
  copySlot(src: this, from: number, to: number): void {
    if (!(from >= 0 && from < src.n)) throw new RangeError(`no stream slot ${from}`);
    if (!(to >= 0 && to < this.n)) throw new RangeError(`no stream slot ${to}`);
    this.soa.copyFrom(src.soa, from, to);
    this.reindexCopied(from, to);
  }

  /** Fixes fields that hold absolute slot-based indices after `copySlot` moved a stream from slot `from` to `to`. */
  protected reindexCopied(_from: number, _to: number): void {}

  /** Sets fresh-stream values for slot i (arrays already zeroed). */
  protected abstract init(i: number): void;

  abstract score(i: number, x: number, tMs: number): number;
  abstract update(i: number, x: number, tMs: number): number;

  /** The bank's state; its columns in `form` (see `ColumnForm`). */
  serialize(form: ColumnForm = "text"): BankState<P> {
    return { ...this.serializeHeader(), size: this.n, cols: this.soa.serialize(this.n, form) };
  }

  /**
   * `serialize()` of a bank holding only streams `slots` (in that order, as slots 0, 1, …),
   * with columns as copied arrays (for an in-memory copy, not for storage): the bank's own
   * `restore` reads it back. The live bank is not touched.
   */
  serializeSlots(slots: ArrayLike<number>): BankState<P> {
    for (let j = 0; j < slots.length; j++) if (!(slots[j]! >= 0 && slots[j]! < this.n)) throw new RangeError(`no stream slot ${slots[j]}`);
    const cols = this.soa.gatherSlots(slots);
    this.reindexGathered(cols, slots);
    const enc: Record<string, EncodedColumn> = {};
    for (const k of this.soa.keys) enc[k] = cols[k]; // in memory: no base64 round trip
    return { ...this.serializeHeader(), size: slots.length, cols: enc };
  }

  /** Fixes fields that hold absolute slot-based indices after `gatherSlots` moved streams. */
  protected reindexGathered(_cols: Record<K, Float64Array>, _slots: ArrayLike<number>): void {}

  private serializeHeader() {
    return { kind: this.kind, version: (this.constructor as unknown as { VERSION: number }).VERSION ?? 1, params: { ...this.params } };
  }

  /**
   * A bank of `kind` restored from `state`: the envelope checked, the saved parameters read
   * against the bank's `defaults` (`readParams`), the columns loaded into `make(params)`.
   */
  protected static restoreAs<P extends object, B extends BaseBank<string, P, string>>(state: unknown, kind: string, version: number, defaults: P, make: (params: Partial<P>) => B): B {
    const s = readBankState(state, kind, version);
    const b = make(readParams(s, defaults));
    b.loadState(s);
    return b;
  }

  /** Loads columns into a freshly constructed bank (used by static restore()). */
  protected loadState(s: Record<string, unknown>): void {
    const n = getNumber(s, "size");
    if (!Number.isInteger(n) || n < 0) throw new StateError("invalid bank size");
    this.soa.load(n, getObject(s, "cols"));
    this.n = n;
    this.fresh = Math.max(this.fresh, n);
  }
}

/** Validates the envelope and extracts params for a bank restore. */
export function readBankState(state: unknown, kind: string, version: number): Record<string, unknown> {
  const s = checkEnvelope(state, kind, version);
  getObject(s, "params");
  return s;
}

/**
 * Regime-change detector shared by the level-tracking banks. Keeps a leaky count of same-sign
 * exceedances (`run`, signed), the number of points in the run and the sum of their residuals.
 * An exceedance of the same sign adds 1, a non-exceeding point takes 0.5 back, an exceedance of
 * the opposite sign restarts the run. When |run| reaches `after`, the mean residual of the run
 * is returned (the caller moves its level by it) and the run is cleared; otherwise 0.
 */
export function adaptRun(
  run: Float64Array,
  runN: Float64Array,
  runSum: Float64Array,
  i: number,
  r: number,
  exceed: boolean,
  after: number,
): number {
  let k = run[i]!;
  if (exceed) {
    const sg = r > 0 ? 1 : -1;
    if (k * sg > 0) {
      k += sg;
      runN[i] = runN[i]! + 1;
      runSum[i] = runSum[i]! + r;
    } else {
      k = sg;
      runN[i] = 1;
      runSum[i] = r;
    }
  } else if (k !== 0) {
    k = k > 0 ? Math.max(0, k - 0.5) : Math.min(0, k + 0.5);
    if (k === 0) {
      runN[i] = 0;
      runSum[i] = 0;
    } else {
      runN[i] = runN[i]! + 1;
      runSum[i] = runSum[i]! + r;
    }
  }
  if (k >= after || -k >= after) {
    const shift = runSum[i]! / runN[i]!;
    run[i] = 0;
    runN[i] = 0;
    runSum[i] = 0;
    return shift;
  }
  run[i] = k;
  return 0;
}

/**
 * The Numenta Anomaly Benchmark score (Lavin & Ahmad 2015, numenta/NAB `sweeper.py`,
 * `optimizer.py`, `scorer.py`), written from its published definition; pure, no I/O.
 *
 * Per file, every row gets an unweighted reward from NAB's scaled sigmoid σ̃(y) = 2/(1+e^{5y}) − 1
 * (−1 when y > 3):
 * - inside a label window, y = −(rows left in the window, this one included) / window width, so
 *   an alarm at the window's first row earns σ̃(−1) ≈ 0.987 and at its last row σ̃(−1/w) ≈ 0;
 * - after a window, y = (rows since its last row) / (width − 1): a false alarm just after a
 *   window costs almost nothing, one long after it costs −1;
 * - before the first window, −1.
 * The first min(⌊0.15·rows⌋, 750) rows are probationary and never scored. An alarm is a row whose
 * score ≥ the threshold. Raw score = Σ_windows (best weighted alarm in the window, or −fnWeight
 * when none) + Σ_false-alarms fpWeight·reward; in-window rewards are weighted tpWeight/σ̃(−1).
 * Normalised score = 100·(raw − null)/(perfect − null): 0 is the null detector (a constant 0.5
 * score, swept like any detector: it never alarms, or alarms on every row when a profile makes
 * that pay, as low-FN can), 100 finds every window at its first row with no false alarm. The swept threshold is the one (over every distinct score of the
 * corpus, from the highest down) with the best raw score, the first such on ties.
 */
export interface NabCostMatrix {
  tpWeight: number;
  fnWeight: number;
  fpWeight: number;
}

export interface NabFile {
  name: string;
  /** Row timestamps (ms) in file order; a repeated timestamp refers to its first row. */
  timestampsMs: ArrayLike<number>;
  /** One score per row on the 0..1 scale (NaN = no score = 0). */
  scores: ArrayLike<number>;
  /** Label windows [start, end] (ms); both must be row timestamps. */
  windows: readonly (readonly [number, number])[];
}

export interface NabWindowLevel {
  windows: number;
  detected: number;
  /** Alarms outside windows (rows) and their maximal runs. */
  fpPoints: number;
  fpEvents: number;
  recall: number;
  /** detected / (detected + fpEvents): one run of false alarms is one false event. */
  precision: number;
  f1: number;
  /** False-alarm runs per day of scored rows. */
  falseAlarmsPerDay: number;
  /** Mean / median time from a detected window's start to its first alarm (minutes). */
  detectionDelayMinMean: number | null;
  detectionDelayMinMedian: number | null;
}

export interface NabAtThreshold {
  threshold: number;
  raw: number;
  /** Normalised NAB score (100 perfect, 0 null detector). */
  score: number;
  counts: { tp: number; fp: number; fn: number; tn: number };
  windowLevel: NabWindowLevel;
  perFile: { file: string; raw: number; tp: number; fp: number; fn: number }[];
}

export interface NabProfileResult {
  nullRaw: number;
  perfectRaw: number;
  swept: NabAtThreshold;
  fixed: NabAtThreshold | null;
}

export interface NabResult {
  files: number;
  windowsTotal: number;
  scorableRows: number;
  profiles: Record<string, NabProfileResult>;
}

/** NAB's scaled sigmoid. */
export function scaledSigmoid(y: number): number {
  return y > 3 ? -1 : 2 / (1 + Math.exp(5 * y)) - 1;
}

const MAX_TP = scaledSigmoid(-1);

/** Rows of a file NAB treats as probationary (never scored). */
export function probationaryRows(rows: number): number {
  return Math.min(Math.floor(0.15 * rows), 750);
}

const PROBATION = -2;
const OUTSIDE = -1;

/** Per-row reward, window membership and corpus-wide window id (or OUTSIDE / PROBATION). */
interface PreparedFile {
  name: string;
  n: number;
  ts: ArrayLike<number>;
  score: Float64Array;
  reward: Float64Array;
  inWin: Uint8Array;
  win: Int32Array;
  windows: readonly (readonly [number, number])[];
  winBase: number;
}

/** First row at timestamp t; throws when no row has exactly that timestamp. */
function rowAt(first: Map<number, number>, t: number, file: string): number {
  const i = first.get(t);
  if (i === undefined) throw new Error(`${file}: label window bound ${new Date(t).toISOString()} is not a row timestamp`);
  return i;
}

function prepare(f: NabFile, winBase: number): PreparedFile {
  const n = f.timestampsMs.length;
  if (f.scores.length !== n) throw new Error(`${f.name}: ${f.scores.length} scores for ${n} rows`);
  const firstRow = new Map<number, number>();
  for (let i = 0; i < n; i++) if (!firstRow.has(f.timestampsMs[i]!)) firstRow.set(f.timestampsMs[i]!, i);
  const bounds = f.windows.map(([a, b]) => [rowAt(firstRow, a, f.name), rowAt(firstRow, b, f.name)] as const);
  const prob = probationaryRows(n);
  const reward = new Float64Array(n);
  const inWin = new Uint8Array(n);
  const win = new Int32Array(n);
  const score = new Float64Array(n);
  let next = 0;
  let cur = -1;
  let curEnd = -1;
  let curWidth = 0;
  let prevEnd = -1;
  let prevWidth = 0;
  for (let i = 0; i < n; i++) {
    const s = Number(f.scores[i]);
    score[i] = Number.isFinite(s) ? Math.min(1, Math.max(0, s)) : 0;
    // a window opens at the first row carrying its start timestamp and closes at the first row
    // carrying its end timestamp (rows with a repeated timestamp follow the first one)
    if (next < bounds.length && f.timestampsMs[i] === f.windows[next]![0]) {
      cur = next;
      curEnd = bounds[next]![1];
      curWidth = curEnd - bounds[next]![0] + 1;
      next++;
    }
    if (cur >= 0) {
      reward[i] = scaledSigmoid(-(curEnd - i + 1) / curWidth);
      inWin[i] = 1;
    } else if (prevEnd < 0) reward[i] = -1;
    else reward[i] = scaledSigmoid(Math.abs(prevEnd - i) / (prevWidth - 1));
    win[i] = i < prob ? PROBATION : cur >= 0 ? winBase + cur : OUTSIDE;
    if (cur >= 0 && f.timestampsMs[i] === f.windows[cur]![1]) {
      prevEnd = i;
      prevWidth = curWidth;
      cur = -1;
    }
  }
  if (next !== bounds.length) throw new Error(`${f.name}: only ${next} of ${bounds.length} label windows were entered (are they in time order?)`);
  return { name: f.name, n, ts: f.timestampsMs, score, reward, inWin, win, windows: f.windows, winBase };
}

function weighted(reward: number, inWin: boolean, cm: NabCostMatrix): number {
  return inWin ? (reward * cm.tpWeight) / MAX_TP : reward * cm.fpWeight;
}

/** Scorable rows of the whole corpus, flattened. */
interface Flat {
  score: Float64Array;
  reward: Float64Array;
  inWin: Uint8Array;
  win: Int32Array;
}

function flatten(files: PreparedFile[]): Flat {
  let total = 0;
  for (const f of files) for (let i = 0; i < f.n; i++) if (f.win[i] !== PROBATION) total++;
  const out: Flat = { score: new Float64Array(total), reward: new Float64Array(total), inWin: new Uint8Array(total), win: new Int32Array(total) };
  let k = 0;
  for (const f of files) {
    for (let i = 0; i < f.n; i++) {
      if (f.win[i] === PROBATION) continue;
      out.score[k] = f.score[i]!;
      out.reward[k] = f.reward[i]!;
      out.inWin[k] = f.inWin[i]!;
      out.win[k] = f.win[i]!;
      k++;
    }
  }
  return out;
}

/**
 * The threshold sweep: rows in decreasing score order, one candidate threshold per distinct
 * score (plus "above every score", 1.1); the first best raw score wins.
 */
function sweep(p: Flat, cm: NabCostMatrix): { threshold: number; raw: number } {
  const n = p.score.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => p.score[b]! - p.score[a]! || a - b);
  const best = new Map<number, number>();
  let fpSum = 0;
  let windowSum = 0;
  for (let i = 0; i < n; i++) {
    const w = p.win[i]!;
    if (w >= 0 && !best.has(w)) {
      best.set(w, -cm.fnWeight);
      windowSum -= cm.fnWeight;
    }
  }
  let cur = 1.1;
  let top = { threshold: cur, raw: -Infinity };
  const record = (): void => {
    const raw = fpSum + windowSum;
    if (raw > top.raw) top = { threshold: cur, raw };
  };
  for (const i of order) {
    const s = p.score[i]!;
    if (s !== cur) {
      record();
      cur = s;
    }
    const w = p.win[i]!;
    const v = weighted(p.reward[i]!, p.inWin[i] === 1, cm);
    if (w >= 0) {
      const b = best.get(w)!;
      if (v > b) {
        best.set(w, v);
        windowSum += v - b;
      }
    } else fpSum += v;
  }
  record();
  return top;
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function windowLevel(files: PreparedFile[], T: number): NabWindowLevel {
  let windows = 0;
  let detected = 0;
  let fpPoints = 0;
  let fpEvents = 0;
  let days = 0;
  const delays: number[] = [];
  for (const f of files) {
    const first = new Map<number, number>();
    let prevFp = -10;
    let firstScored = -1;
    for (let i = 0; i < f.n; i++) {
      const w = f.win[i]!;
      if (w === PROBATION) continue;
      if (firstScored < 0) firstScored = i;
      const alarm = f.score[i]! >= T;
      if (w >= 0) {
        if (!first.has(w)) first.set(w, -1);
        if (alarm && first.get(w) === -1) first.set(w, i);
      } else if (alarm) {
        fpPoints++;
        if (prevFp !== i - 1) fpEvents++;
        prevFp = i;
      }
    }
    if (firstScored >= 0) days += (Number(f.ts[f.n - 1]) - Number(f.ts[firstScored])) / 86_400_000;
    windows += first.size;
    for (const [w, row] of first) {
      if (row < 0) continue;
      detected++;
      const start = f.windows[w - f.winBase]![0];
      delays.push(Math.max(0, Number(f.ts[row]) - start) / 60_000);
    }
  }
  const recall = windows ? detected / windows : 0;
  const precision = detected + fpEvents ? detected / (detected + fpEvents) : 0;
  return {
    windows,
    detected,
    fpPoints,
    fpEvents,
    recall,
    precision,
    f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0,
    falseAlarmsPerDay: days > 0 ? fpEvents / days : 0,
    detectionDelayMinMean: delays.length ? delays.reduce((a, b) => a + b, 0) / delays.length : null,
    detectionDelayMinMedian: median(delays),
  };
}

function scoreFileAt(f: PreparedFile, T: number, cm: NabCostMatrix): { raw: number; tp: number; fp: number; fn: number; tn: number } {
  const best = new Map<number, number>();
  let fpSum = 0;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (let i = 0; i < f.n; i++) {
    const w = f.win[i]!;
    if (w === PROBATION) continue;
    if (w >= 0 && !best.has(w)) best.set(w, -cm.fnWeight);
    const alarm = f.score[i]! >= T;
    if (w >= 0) {
      if (!alarm) {
        fn++;
        continue;
      }
      tp++;
      const v = weighted(f.reward[i]!, true, cm);
      if (v > best.get(w)!) best.set(w, v);
    } else if (alarm) {
      fp++;
      fpSum += weighted(f.reward[i]!, f.inWin[i] === 1, cm);
    } else tn++;
  }
  let raw = fpSum;
  for (const v of best.values()) raw += v;
  return { raw, tp, fp, fn, tn };
}

function atThreshold(files: PreparedFile[], T: number, cm: NabCostMatrix, norm: (raw: number) => number): NabAtThreshold {
  const perFile = files.map((f) => ({ file: f.name, ...scoreFileAt(f, T, cm) }));
  const counts = { tp: 0, fp: 0, fn: 0, tn: 0 };
  let raw = 0;
  for (const r of perFile) {
    raw += r.raw;
    counts.tp += r.tp;
    counts.fp += r.fp;
    counts.fn += r.fn;
    counts.tn += r.tn;
  }
  return { threshold: T, raw, score: norm(raw), counts, windowLevel: windowLevel(files, T), perFile: perFile.map(({ file, raw: r, tp, fp, fn }) => ({ file, raw: r, tp, fp, fn })) };
}

/**
 * NAB score of a corpus for each cost profile: swept, and at `threshold` (0..1) when given.
 * Files are taken in the order given (NAB sorts them by path; the order only matters for ties).
 */
export function nabScore(files: readonly NabFile[], profiles: Readonly<Record<string, NabCostMatrix>>, threshold?: number): NabResult {
  const prepared: PreparedFile[] = [];
  let base = 0;
  for (const f of files) {
    prepared.push(prepare(f, base));
    base += f.windows.length;
  }
  const flat = flatten(prepared);
  const nullFlat: Flat = { ...flat, score: new Float64Array(flat.score.length).fill(0.5) };
  const out: NabResult = { files: files.length, windowsTotal: base, scorableRows: flat.score.length, profiles: {} };
  for (const [name, cm] of Object.entries(profiles)) {
    const nullRaw = sweep(nullFlat, cm).raw;
    const perfectRaw = base * cm.tpWeight;
    const norm = (raw: number): number => (100 * (raw - nullRaw)) / (perfectRaw - nullRaw);
    const best = sweep(flat, cm);
    out.profiles[name] = {
      nullRaw,
      perfectRaw,
      swept: atThreshold(prepared, best.threshold, cm, norm),
      fixed: threshold === undefined ? null : atThreshold(prepared, threshold, cm, norm),
    };
  }
  return out;
}

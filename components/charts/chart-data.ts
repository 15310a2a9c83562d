/** Pure data shaping for the stream chart: merge values, band and scores on one time axis. */

export interface ValuePoint {
  t: number;
  v: number | null;
  min?: number;
  max?: number;
}
export interface ScorePointIn {
  t: number;
  score: number;
  expected: number | null;
  lower: number | null;
  upper: number | null;
}
export interface ChartRow {
  t: number;
  v: number | null;
  expected: number | null;
  band: [number, number] | null;
  score: number | null;
  /** Future rows only: the model's forecast and its band. */
  forecast?: number | null;
  forecastBand?: [number, number] | null;
}

export interface ForecastIn {
  t: number[];
  expected: number[];
  lower: number[];
  upper: number[];
}

/** Appends forecast rows after the last observed row; the first forecast row joins the line. */
export function appendForecast(rows: ChartRow[], f: ForecastIn | null | undefined): ChartRow[] {
  if (!f || f.t.length === 0) return rows;
  const lastT = rows.length ? rows[rows.length - 1]!.t : -Infinity;
  const out = rows.slice();
  for (let i = 0; i < f.t.length; i++) {
    const t = f.t[i]!;
    if (t <= lastT) continue;
    out.push({ t, v: null, expected: null, band: null, score: null, forecast: f.expected[i]!, forecastBand: [f.lower[i]!, f.upper[i]!] });
  }
  return out;
}

/** Clips expected values and bands to the metric's lower bound (a load average's band stops at 0). */
export function clipRowsToFloor(rows: ChartRow[], floor: number): ChartRow[] {
  if (!(floor > -Infinity)) return rows;
  const c = (v: number) => Math.max(v, floor);
  return rows.map((r) => ({
    ...r,
    expected: r.expected === null ? null : c(r.expected),
    band: r.band ? [c(r.band[0]), c(r.band[1])] : null,
    ...(r.forecast !== undefined ? { forecast: r.forecast === null ? null : c(r.forecast) } : {}),
    ...(r.forecastBand !== undefined ? { forecastBand: r.forecastBand ? ([c(r.forecastBand[0]), c(r.forecastBand[1])] as [number, number]) : null } : {}),
  }));
}

export function medianStep(ts: number[]): number {
  if (ts.length < 2) return 0;
  const d: number[] = [];
  for (let i = 1; i < ts.length; i++) d.push(ts[i]! - ts[i - 1]!);
  d.sort((a, b) => a - b);
  return d[Math.floor(d.length / 2)]!;
}

/**
 * Joins values with the nearest score at or before each value time and inserts a null row
 * wherever the data has a hole longer than `gapFactor` typical steps, so lines break at gaps
 * instead of bridging them.
 */
export function buildChartRows(values: ValuePoint[], scores: ScorePointIn[], gapFactor = 3): ChartRow[] {
  const step = medianStep(values.map((p) => p.t));
  const rows: ChartRow[] = [];
  let j = 0;
  let current: ScorePointIn | undefined;
  for (let i = 0; i < values.length; i++) {
    const p = values[i]!;
    const prev = values[i - 1];
    if (prev && step > 0 && p.t - prev.t > gapFactor * step) {
      rows.push({ t: prev.t + step, v: null, expected: null, band: null, score: null });
    }
    while (j < scores.length && scores[j]!.t <= p.t) current = scores[j++];
    const fresh = current && step > 0 ? p.t - current.t <= gapFactor * step : Boolean(current);
    const s = fresh ? current : undefined;
    rows.push({
      t: p.t,
      v: p.v,
      expected: s?.expected ?? null,
      band: s && s.lower !== null && s.upper !== null ? [s.lower, s.upper] : null,
      score: s ? Math.round(s.score * 10) / 10 : null,
    });
  }
  return rows;
}

/**
 * An axis tick: formatValue without the decimals a whole tick does not have ("85 ms", "0"
 * beside "425 ms", not "85.00 ms" and "0.00"); bytes and abbreviated (k, M, G) ticks unchanged.
 */
export function formatTick(v: number, unit?: string | null): string {
  const s = formatValue(v, unit);
  return Number.isInteger(v) && Math.abs(v) < 1e4 && unit !== "bytes" && unit !== "bytes/s" ? s.replace(/^(-?\d+)\.0+(?!\d)/, "$1") : s;
}

export function formatValue(v: number | null | undefined, unit?: string | null): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  const abs = Math.abs(v);
  let s: string;
  if (unit === "bytes" || unit === "bytes/s") {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let x = v;
    let k = 0;
    while (Math.abs(x) >= 1024 && k < units.length - 1) {
      x /= 1024;
      k++;
    }
    return `${x.toFixed(x >= 100 ? 0 : 1)} ${units[k]}${unit === "bytes/s" ? "/s" : ""}`;
  }
  if (abs >= 1e9) s = `${(v / 1e9).toFixed(2)}G`;
  else if (abs >= 1e6) s = `${(v / 1e6).toFixed(2)}M`;
  else if (abs >= 1e4) s = `${(v / 1e3).toFixed(1)}k`;
  else if (abs >= 100) s = v.toFixed(0);
  else if (abs >= 1) s = v.toFixed(2);
  else s = v.toPrecision(3);
  return unit === "percent" ? `${s}%` : unit && unit !== "count" && unit !== "" ? `${s} ${unit}` : s;
}

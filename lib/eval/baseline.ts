/**
 * Plain rolling z-score baseline: for each column, z = (x − mean) / std over the previous
 * `window` rows (the current row excluded, NaN skipped); the row score is the largest |z| over
 * columns. Strictly causal, no seasonality, no counter handling — a deliberately plain yardstick.
 *
 * Parameters: window = 60 rows, threshold = 3 (|z| > 3 flags), minPoints = 30 valid values
 * before a column is scored. Score 0–100 = min(100, 50·|z|/threshold), so the threshold maps to 50.
 * Cost O(rows · columns · window). std is floored at 1e-6·max(1, |mean|) (a flat window makes
 * any change infinite z — part of the baseline's plainness).
 */
export interface BaselineOptions {
  window?: number;
  threshold?: number;
  minPoints?: number;
}

export interface DetectorOutput {
  score: Float64Array;
  isAnomaly: Uint8Array;
}

export function rollingZScore(
  table: { columns: readonly { values: ArrayLike<number> }[] },
  opts: BaselineOptions = {},
): DetectorOutput {
  const window = opts.window ?? 60;
  const threshold = opts.threshold ?? 3;
  const minPoints = opts.minPoints ?? 30;
  const n = table.columns[0]?.values.length ?? 0;
  const maxZ = new Float64Array(n);
  for (const col of table.columns) {
    const v = col.values;
    for (let i = 0; i < n; i++) {
      const x = v[i] ?? Number.NaN;
      if (Number.isNaN(x)) continue;
      let k = 0;
      let s = 0;
      for (let j = Math.max(0, i - window); j < i; j++) {
        const y = v[j] ?? Number.NaN;
        if (Number.isNaN(y)) continue;
        k++;
        s += y;
      }
      if (k < minPoints) continue;
      const mean = s / k;
      let ss = 0; // two-pass variance: memory in bytes squared would cancel badly
      for (let j = Math.max(0, i - window); j < i; j++) {
        const y = v[j] ?? Number.NaN;
        if (!Number.isNaN(y)) ss += (y - mean) * (y - mean);
      }
      const variance = ss / k;
      const std = Math.max(Math.sqrt(variance), 1e-6 * Math.max(1, Math.abs(mean)));
      const z = Math.abs(x - mean) / std;
      if (z > (maxZ[i] ?? 0)) maxZ[i] = z;
    }
  }
  const score = new Float64Array(n);
  const isAnomaly = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const z = maxZ[i] ?? 0;
    score[i] = Math.min(100, (50 * z) / threshold);
    isAnomaly[i] = z > threshold ? 1 : 0;
  }
  return { score, isAnomaly };
}

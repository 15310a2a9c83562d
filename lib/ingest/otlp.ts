/**
 * OTLP/HTTP metrics (https://opentelemetry.io/docs/specs/otlp/#otlphttp): decodes an
 * ExportMetricsServiceRequest from binary protobuf or from the OTLP JSON encoding (lowerCamelCase
 * field names, 64-bit integers as decimal strings, enums as integers) and maps it to series.
 *
 * Mapping (documented in docs/ingest.md):
 * - identity: metric name + data point attributes, plus `job` (service.namespace/service.name)
 *   and `instance` (service.instance.id, else host.name) from the resource, as Prometheus'
 *   OTLP receiver does; other resource attributes are not labels (they churn: pids, versions).
 * - Gauge and non-monotonic Sum → gauge.
 * - Monotonic cumulative Sum → kind "counter": stored raw; the detection engine scores its
 *   per-second rate and treats a drop as a reset (no per-series state in the web process).
 *   Monotonic delta Sum → gauge of value / interval seconds (a rate), unit "<unit>/s".
 * - Histogram / ExponentialHistogram → `<name>_count`, `<name>_sum` (counter if cumulative, rate
 *   gauge if delta) and `<name>_p95` (gauge), the 95th percentile interpolated linearly inside
 *   its bucket over the *latest interval*: for cumulative points the difference from the
 *   previous point of the same series (kept in `HistogramWindows`), else the point itself.
 * - Summary → `<name>{quantile="q"}` gauges, `<name>_count` / `<name>_sum` counters.
 * - Points flagged FLAG_NO_RECORDED_VALUE are skipped (OTLP's staleness marker).
 */
import { z } from "zod";
import { AppError } from "@/lib/errors/app-error";
import { streamKey } from "@/lib/schemas/stream";
import { ExportMetricsServiceRequest } from "./otlp-proto";
import { describeTimeRefusal, timeRefusal } from "./sample-bounds";
import { DEFAULT_SERIES_LIMITS, type DecodedSeries, type SeriesLimits } from "./types";

const ZInt = z.union([z.number(), z.string().regex(/^-?\d+$/, "must be an integer (or its decimal string)")]);
type ZAnyValueT = {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number | string;
  arrayValue?: { values?: ZAnyValueT[] };
  kvlistValue?: { values?: { key: string; value?: ZAnyValueT }[] };
  bytesValue?: string;
};
const ZAnyValue: z.ZodType<ZAnyValueT> = z.lazy(() =>
  z.object({
    stringValue: z.string().optional(),
    boolValue: z.boolean().optional(),
    intValue: ZInt.optional(),
    doubleValue: z.union([z.number(), z.string()]).optional(),
    arrayValue: z.object({ values: z.array(ZAnyValue).optional() }).optional(),
    kvlistValue: z.object({ values: z.array(z.object({ key: z.string(), value: ZAnyValue.optional() })).optional() }).optional(),
    bytesValue: z.string().optional(),
  }),
);
const ZKeyValue = z.object({ key: z.string(), value: ZAnyValue.optional() });
const ZAttrs = z.array(ZKeyValue).optional();
const ZDouble = z.union([z.number(), z.enum(["NaN", "Infinity", "-Infinity"])]);
const ZTemporality = z
  .union([z.number().int(), z.enum(["AGGREGATION_TEMPORALITY_UNSPECIFIED", "AGGREGATION_TEMPORALITY_DELTA", "AGGREGATION_TEMPORALITY_CUMULATIVE"])])
  .optional();
const ZPointBase = {
  attributes: ZAttrs,
  startTimeUnixNano: ZInt.optional(),
  timeUnixNano: ZInt.optional(),
  flags: z.number().int().optional(),
};
const ZNumberPoint = z.object({ ...ZPointBase, asDouble: ZDouble.optional(), asInt: ZInt.optional() });
const ZHistogramPoint = z.object({
  ...ZPointBase,
  count: ZInt.optional(),
  sum: ZDouble.optional(),
  bucketCounts: z.array(ZInt).optional(),
  explicitBounds: z.array(ZDouble).optional(),
  min: ZDouble.optional(),
  max: ZDouble.optional(),
});
const ZBuckets = z.object({ offset: z.number().int().optional(), bucketCounts: z.array(ZInt).optional() }).optional();
const ZExpHistogramPoint = z.object({
  ...ZPointBase,
  count: ZInt.optional(),
  sum: ZDouble.optional(),
  scale: z.number().int().optional(),
  zeroCount: ZInt.optional(),
  positive: ZBuckets,
  negative: ZBuckets,
  min: ZDouble.optional(),
  max: ZDouble.optional(),
});
const ZSummaryPoint = z.object({
  ...ZPointBase,
  count: ZInt.optional(),
  sum: ZDouble.optional(),
  quantileValues: z.array(z.object({ quantile: ZDouble.optional(), value: ZDouble.optional() })).optional(),
});
const ZMetric = z.object({
  name: z.string(),
  description: z.string().optional(),
  unit: z.string().optional(),
  gauge: z.object({ dataPoints: z.array(ZNumberPoint).optional() }).optional(),
  sum: z
    .object({ dataPoints: z.array(ZNumberPoint).optional(), aggregationTemporality: ZTemporality, isMonotonic: z.boolean().optional() })
    .optional(),
  histogram: z.object({ dataPoints: z.array(ZHistogramPoint).optional(), aggregationTemporality: ZTemporality }).optional(),
  exponentialHistogram: z.object({ dataPoints: z.array(ZExpHistogramPoint).optional(), aggregationTemporality: ZTemporality }).optional(),
  summary: z.object({ dataPoints: z.array(ZSummaryPoint).optional() }).optional(),
});
export const ZExportMetricsRequest = z.object({
  resourceMetrics: z
    .array(
      z.object({
        resource: z.object({ attributes: ZAttrs }).optional(),
        scopeMetrics: z.array(z.object({ metrics: z.array(ZMetric).optional() })).optional(),
      }),
    )
    .optional(),
});
export type TExportMetricsRequest = z.infer<typeof ZExportMetricsRequest>;
type TMetric = z.infer<typeof ZMetric>;
type TAttrs = z.infer<typeof ZAttrs>;

const FLAG_NO_RECORDED_VALUE = 1;
const DELTA = 1;

function shapeError(error: z.ZodError): AppError {
  const issue = error.issues[0];
  const where = issue ? issue.path.join(".") : "";
  return new AppError(
    "BAD_REQUEST",
    `The body is not a valid OTLP ExportMetricsServiceRequest: at ${where || "(root)"}: ${issue?.message ?? "invalid"}. Nothing from this request was stored.`,
  );
}

/** Deepest nesting of objects and arrays a request may have (attribute values nest). */
export const MAX_OTLP_DEPTH = 64;

/**
 * Refuses a decoded body nested deeper than MAX_OTLP_DEPTH before anything recursive (zod's
 * schema, the attribute formatter) walks it: a deeply nested AnyValue would overflow the stack.
 * Iterative, so the check itself cannot.
 */
function checkDepth(root: unknown): void {
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (depth > MAX_OTLP_DEPTH) {
      throw new AppError("BAD_REQUEST", `The OTLP request is nested more than ${MAX_OTLP_DEPTH} levels deep (attribute values within values). Nothing from this request was stored.`);
    }
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
  }
}

/** Binary protobuf body → request object. */
export function decodeOtlpProtobuf(bytes: Uint8Array): TExportMetricsRequest {
  let obj: unknown;
  try {
    const msg = ExportMetricsServiceRequest.decode(bytes);
    obj = ExportMetricsServiceRequest.toObject(msg, { longs: Number, enums: Number, bytes: String, defaults: false, arrays: true });
  } catch (e) {
    throw new AppError(
      "BAD_REQUEST",
      `The body is not a valid OTLP ExportMetricsServiceRequest protobuf (${(e as Error).message}). Send Content-Type application/json for the JSON encoding. Nothing from this request was stored.`,
    );
  }
  checkDepth(obj);
  const parsed = ZExportMetricsRequest.safeParse(obj);
  if (!parsed.success) throw shapeError(parsed.error);
  return parsed.data;
}

/** OTLP JSON body (text) → request object. */
export function decodeOtlpJson(text: string): TExportMetricsRequest {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new AppError("BAD_REQUEST", `The body is not valid JSON (${(e as Error).message}). Nothing from this request was stored.`);
  }
  checkDepth(obj);
  const parsed = ZExportMetricsRequest.safeParse(obj);
  if (!parsed.success) throw shapeError(parsed.error);
  return parsed.data;
}

const num = (v: number | string | undefined): number => (v === undefined ? 0 : typeof v === "number" ? v : Number(v));
const nsToMs = (v: number | string | undefined): number => Math.round(num(v) / 1e6);

function anyValueToString(v: ZAnyValueT | undefined): string {
  if (!v) return "";
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return String(v.boolValue);
  if (v.intValue !== undefined) return String(v.intValue);
  if (v.doubleValue !== undefined) return String(v.doubleValue);
  if (v.arrayValue) return JSON.stringify((v.arrayValue.values ?? []).map(anyValueToString));
  if (v.kvlistValue) return JSON.stringify(Object.fromEntries((v.kvlistValue.values ?? []).map((kv) => [kv.key, anyValueToString(kv.value)])));
  if (v.bytesValue !== undefined) return v.bytesValue;
  return "";
}

function attrsToLabels(attrs: TAttrs, into: Record<string, string> = {}): Record<string, string> {
  for (const kv of attrs ?? []) into[kv.key] = anyValueToString(kv.value);
  return into;
}

/** `job` and `instance` from resource attributes (Prometheus' OTLP convention). */
export function resourceLabels(attrs: TAttrs): Record<string, string> {
  const r = attrsToLabels(attrs);
  const out: Record<string, string> = {};
  const name = r["service.name"];
  const ns = r["service.namespace"];
  if (name) out.job = ns ? `${ns}/${name}` : name;
  const inst = r["service.instance.id"] ?? r["host.name"];
  if (inst) out.instance = inst;
  return out;
}

const dbl = (v: number | string | undefined): number =>
  v === undefined ? 0 : typeof v === "number" ? v : v === "NaN" ? Number.NaN : v === "Infinity" ? Infinity : v === "-Infinity" ? -Infinity : Number(v);

/**
 * Quantile `q` of an explicit-bounds histogram, interpolating linearly inside the bucket that
 * holds rank q·count. Bucket i covers (bounds[i-1], bounds[i]]; the first bucket starts at 0
 * when its bound is positive (Prometheus' histogram_quantile rule) or at `min` when known; the
 * overflow bucket ends at `max` when known, else the quantile is the last finite bound.
 * Returns NaN for an empty histogram.
 */
export function histogramQuantile(q: number, bounds: number[], counts: number[], min?: number, max?: number): number {
  let total = 0;
  for (const c of counts) total += c;
  if (!(total > 0) || counts.length === 0) return Number.NaN;
  if (bounds.length === 0) return max !== undefined && min !== undefined ? min + (max - min) * q : Number.NaN;
  const rank = q * total;
  let cum = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (c > 0 && cum + c >= rank) {
      let lo: number;
      let hi: number;
      if (i === 0) {
        hi = bounds[0]!;
        lo = min !== undefined && min <= hi ? min : hi > 0 ? 0 : hi;
      } else if (i >= bounds.length) {
        lo = bounds[bounds.length - 1]!;
        if (max === undefined || !(max > lo)) return lo;
        hi = max;
      } else {
        lo = bounds[i - 1]!;
        hi = bounds[i]!;
      }
      if (max !== undefined && hi > max && max >= lo) hi = max;
      return lo + ((hi - lo) * (rank - cum)) / c;
    }
    cum += c;
  }
  return bounds[bounds.length - 1]!;
}

/**
 * Quantile of an exponential histogram (positive range and zero bucket; negative buckets are
 * treated as below zero). Bucket index i covers (base^i, base^(i+1)], base = 2^(2^-scale).
 */
export function exponentialHistogramQuantile(
  q: number,
  scale: number,
  zeroCount: number,
  positive: { offset: number; counts: number[] },
  negativeTotal: number,
): number {
  let total = zeroCount + negativeTotal;
  for (const c of positive.counts) total += c;
  if (!(total > 0)) return Number.NaN;
  const rank = q * total;
  let cum = negativeTotal + zeroCount;
  if (cum >= rank) return negativeTotal >= rank ? Number.NaN : 0;
  const base = 2 ** (2 ** -scale);
  for (let k = 0; k < positive.counts.length; k++) {
    const c = positive.counts[k]!;
    if (c > 0 && cum + c >= rank) {
      const i = positive.offset + k;
      const lo = base ** i;
      const hi = base ** (i + 1);
      return lo + ((hi - lo) * (rank - cum)) / c;
    }
    cum += c;
  }
  return base ** (positive.offset + positive.counts.length);
}

/** Last cumulative bucket counts per histogram series, to take p95 over the latest interval. */
export class HistogramWindows {
  private last = new Map<string, { start: number; counts: number[]; key: string }>();
  constructor(private readonly maxSeries = 100_000) {}

  /** Bucket counts of the interval since the previous point (or the point itself after a reset). */
  interval(key: string, startMs: number, counts: number[], layoutKey: string): number[] {
    const prev = this.last.get(key);
    if (this.last.size >= this.maxSeries && !prev) this.last.clear();
    this.last.set(key, { start: startMs, counts, key: layoutKey });
    if (!prev || prev.start !== startMs || prev.key !== layoutKey || prev.counts.length !== counts.length) return counts;
    const out = counts.map((c, i) => c - prev.counts[i]!);
    if (out.some((c) => c < 0)) return counts;
    return out;
  }
}

export interface OtlpDecoded {
  series: DecodedSeries[];
  points: number;
  skipped: number;
  /** data points refused for their time (see sample-bounds.ts); the others are kept */
  rejected: number;
  /** the first few refusals, worded for the sender */
  rejectedExamples: string[];
}

/** Maps a decoded request to series (see the module comment for the rules). */
export function otlpToSeries(
  req: TExportMetricsRequest,
  windows: HistogramWindows = new HistogramWindows(),
  limits: SeriesLimits = DEFAULT_SERIES_LIMITS,
  nowMs: number = Date.now(),
): OtlpDecoded {
  const bySeries = new Map<string, DecodedSeries>();
  let points = 0;
  let skipped = 0;
  let rejected = 0;
  const rejectedExamples: string[] = [];
  const accept = (name: string, tMs: number) => {
    const reason = timeRefusal(tMs, nowMs);
    if (reason === null) return true;
    if (rejected++ < 10) rejectedExamples.push(`${name}: ${describeTimeRefusal(reason, tMs)}`);
    return false;
  };
  const add = (metric: string, labels: Record<string, string>, kind: DecodedSeries["kind"], unit: string | undefined, tMs: number, v: number) => {
    const key = `${kind}|${streamKey(metric, labels)}`;
    let s = bySeries.get(key);
    if (!s) {
      if (bySeries.size >= limits.maxSeriesPerRequest) {
        throw new AppError(
          "PAYLOAD_TOO_LARGE",
          `The request holds more than ${limits.maxSeriesPerRequest} series; export more often or in smaller batches.`,
        );
      }
      bySeries.set(key, (s = { metric, labels, kind, unit: unit || null, tsMs: [], values: [] }));
    }
    s.tsMs.push(tMs);
    s.values.push(v);
  };
  for (const rm of req.resourceMetrics ?? []) {
    const base = resourceLabels(rm.resource?.attributes);
    for (const sm of rm.scopeMetrics ?? []) {
      for (const m of sm.metrics ?? []) {
        const r = mapMetric(m, base, windows, add, accept);
        points += r.points;
        skipped += r.skipped;
      }
    }
  }
  return { series: [...bySeries.values()], points: points - rejected, skipped, rejected, rejectedExamples };
}

type Add = (metric: string, labels: Record<string, string>, kind: DecodedSeries["kind"], unit: string | undefined, tMs: number, v: number) => void;

function temporalityOf(t: number | string | undefined): number {
  if (t === "AGGREGATION_TEMPORALITY_DELTA" || t === DELTA) return DELTA;
  return 2;
}

function mapMetric(
  m: TMetric,
  base: Record<string, string>,
  windows: HistogramWindows,
  add: Add,
  accept: (name: string, tMs: number) => boolean,
): { points: number; skipped: number } {
  let points = 0;
  let skipped = 0;
  const name = m.name;
  const unit = m.unit;
  const labelsOf = (attrs: TAttrs) => attrsToLabels(attrs, { ...base });
  const usable = (p: { flags?: number; timeUnixNano?: number | string }) => {
    if (((p.flags ?? 0) & FLAG_NO_RECORDED_VALUE) !== 0) {
      skipped++;
      return false;
    }
    points++;
    return accept(name, nsToMs(p.timeUnixNano));
  };
  const intervalS = (p: { startTimeUnixNano?: number | string; timeUnixNano?: number | string }) =>
    (num(p.timeUnixNano) - num(p.startTimeUnixNano)) / 1e9;
  const pointValue = (p: { asDouble?: number | string; asInt?: number | string }) => (p.asInt !== undefined ? num(p.asInt) : dbl(p.asDouble));

  if (m.gauge) {
    for (const p of m.gauge.dataPoints ?? []) if (usable(p)) add(name, labelsOf(p.attributes), "gauge", unit, nsToMs(p.timeUnixNano), pointValue(p));
  } else if (m.sum) {
    const delta = temporalityOf(m.sum.aggregationTemporality) === DELTA;
    const monotonic = m.sum.isMonotonic === true;
    for (const p of m.sum.dataPoints ?? []) {
      if (!usable(p)) continue;
      const t = nsToMs(p.timeUnixNano);
      const v = pointValue(p);
      if (monotonic && delta) {
        const dt = intervalS(p);
        if (dt > 0) add(name, labelsOf(p.attributes), "gauge", unit ? `${unit}/s` : "1/s", t, v / dt);
        else skipped++;
      } else add(name, labelsOf(p.attributes), monotonic ? "counter" : "gauge", unit, t, v);
    }
  } else if (m.histogram || m.exponentialHistogram) {
    const h = (m.histogram ?? m.exponentialHistogram)!;
    const delta = temporalityOf(h.aggregationTemporality) === DELTA;
    for (const p of h.dataPoints ?? []) {
      if (!usable(p)) continue;
      const labels = labelsOf(p.attributes);
      const t = nsToMs(p.timeUnixNano);
      const count = num(p.count);
      const dt = intervalS(p);
      if (delta) {
        if (dt > 0) {
          add(`${name}_count`, labels, "gauge", "1/s", t, count / dt);
          if (p.sum !== undefined) add(`${name}_sum`, labels, "gauge", unit ? `${unit}/s` : undefined, t, dbl(p.sum) / dt);
        }
      } else {
        add(`${name}_count`, labels, "counter", undefined, t, count);
        if (p.sum !== undefined) add(`${name}_sum`, labels, "counter", unit, t, dbl(p.sum));
      }
      const min = p.min !== undefined ? dbl(p.min) : undefined;
      const max = p.max !== undefined ? dbl(p.max) : undefined;
      const key = streamKey(name, labels);
      const startMs = nsToMs(p.startTimeUnixNano);
      let p95: number;
      if ("explicitBounds" in p || "bucketCounts" in p) {
        const hp = p as z.infer<typeof ZHistogramPoint>;
        const bounds = (hp.explicitBounds ?? []).map(dbl);
        let counts = (hp.bucketCounts ?? []).map(num);
        if (!delta) counts = windows.interval(key, startMs, counts, bounds.join(","));
        // min/max cover the whole cumulative window: still valid outer bounds for the interval.
        p95 = histogramQuantile(0.95, bounds, counts, min, max);
      } else {
        const ep = p as z.infer<typeof ZExpHistogramPoint>;
        const scale = ep.scale ?? 0;
        const offset = ep.positive?.offset ?? 0;
        const posCounts = (ep.positive?.bucketCounts ?? []).map(num);
        const negTotal = (ep.negative?.bucketCounts ?? []).map(num).reduce((a, b) => a + b, 0);
        let all = [num(ep.zeroCount), negTotal, ...posCounts];
        if (!delta) all = windows.interval(key, startMs, all, `exp:${scale}:${offset}`);
        p95 = exponentialHistogramQuantile(0.95, scale, all[0]!, { offset, counts: all.slice(2) }, all[1]!);
      }
      if (Number.isFinite(p95)) add(`${name}_p95`, labels, "gauge", unit, t, p95);
    }
  } else if (m.summary) {
    for (const p of m.summary.dataPoints ?? []) {
      if (!usable(p)) continue;
      const labels = labelsOf(p.attributes);
      const t = nsToMs(p.timeUnixNano);
      add(`${name}_count`, labels, "counter", undefined, t, num(p.count));
      add(`${name}_sum`, labels, "counter", unit, t, dbl(p.sum));
      for (const qv of p.quantileValues ?? []) add(name, { ...labels, quantile: String(dbl(qv.quantile)) }, "gauge", unit, t, dbl(qv.value));
    }
  }
  return { points, skipped };
}

/**
 * Prometheus remote_write v1: a snappy block-compressed protobuf `prometheus.WriteRequest`
 * (https://prometheus.io/docs/concepts/remote_write_spec/). Pure decoding into Omen's
 * `IncomingSeries` shape; snappy via `snappyjs`, protobuf via `protobufjs` reflection.
 *
 * Staleness markers (the NaN with bit pattern 0x7ff0000000000002 that Prometheus writes when a
 * series disappears) are understood and skipped; every other NaN / ±Inf is an input error.
 */
import protobuf from "protobufjs";
import snappy from "snappyjs";
import { AppError } from "@/lib/errors/app-error";
import { DEFAULT_SERIES_LIMITS, type DecodedSeries, type SeriesLimits } from "./types";

const root = protobuf.Root.fromJSON({
  nested: {
    prometheus: {
      nested: {
        WriteRequest: {
          fields: {
            timeseries: { rule: "repeated", type: "TimeSeries", id: 1 },
            metadata: { rule: "repeated", type: "MetricMetadata", id: 3 },
          },
        },
        TimeSeries: {
          fields: {
            labels: { rule: "repeated", type: "Label", id: 1 },
            samples: { rule: "repeated", type: "Sample", id: 2 },
          },
        },
        Label: { fields: { name: { type: "string", id: 1 }, value: { type: "string", id: 2 } } },
        Sample: { fields: { value: { type: "double", id: 1 }, timestamp: { type: "int64", id: 2 } } },
        MetricMetadata: {
          fields: {
            type: { type: "MetricType", id: 1 },
            metricFamilyName: { type: "string", id: 2 },
            help: { type: "string", id: 4 },
            unit: { type: "string", id: 5 },
          },
        },
        MetricType: {
          values: { UNKNOWN: 0, COUNTER: 1, GAUGE: 2, SUMMARY: 3, HISTOGRAM: 4, GAUGEHISTOGRAM: 5, INFO: 6, STATESET: 7 },
        },
      },
    },
  },
});

export const WriteRequestType = root.lookupType("prometheus.WriteRequest");

export interface PromLabel {
  name: string;
  value: string;
}
export interface PromSample {
  value: number;
  timestamp: number | { toNumber(): number };
}
export interface PromTimeSeries {
  labels: PromLabel[];
  samples: PromSample[];
}
export interface PromMetadata {
  type: number;
  metricFamilyName: string;
  help?: string;
  unit?: string;
}
export interface PromWriteRequest {
  timeseries: PromTimeSeries[];
  metadata: PromMetadata[];
}

const METRIC_TYPE_COUNTER = 1;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/**
 * True for Prometheus' staleness marker (value.StaleNaN = 0x7ff0000000000002). It is a
 * signalling NaN, which V8 may quieten (set bit 51 → 0x7ff8000000000002) when the decoded double
 * is stored in an object field, so both forms count; Prometheus' ordinary NaN
 * (0x7ff8000000000001) does not.
 */
export function isStaleMarker(v: number): boolean {
  if (!Number.isNaN(v)) return false;
  f64[0] = v;
  return u32[0] === 2 && (u32[1]! & 0xfff7ffff) === 0x7ff00000;
}

/** Reads the varint uncompressed-length header of a snappy block without decompressing. */
export function snappyUncompressedLength(buf: Uint8Array): number {
  let result = 0;
  let shift = 0;
  for (let i = 0; i < Math.min(buf.length, 5); i++) {
    const b = buf[i]!;
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return result;
    shift += 7;
  }
  return -1;
}

/** Snappy block → protobuf bytes, refusing a declared size over `maxBytes` before allocating. */
export function decompressSnappy(body: Uint8Array, maxBytes: number): Uint8Array {
  const declared = snappyUncompressedLength(body);
  if (declared < 0) {
    throw new AppError(
      "BAD_REQUEST",
      "The body is not snappy-compressed (invalid length header). Prometheus remote_write sends snappy block format with `Content-Encoding: snappy`.",
    );
  }
  if (declared > maxBytes) {
    throw new AppError(
      "PAYLOAD_TOO_LARGE",
      `The request decompresses to ${declared} bytes, over the limit of ${maxBytes} bytes (OMEN_MAX_BODY_BYTES). Lower queue_config.max_samples_per_send in the remote_write block, or raise OMEN_MAX_BODY_BYTES.`,
    );
  }
  try {
    return snappy.uncompress(body, maxBytes) as Uint8Array;
  } catch (e) {
    throw new AppError(
      "BAD_REQUEST",
      `The body is not valid snappy-compressed data (${(e as Error).message}). Prometheus remote_write sends snappy block format; nothing from this request was stored.`,
    );
  }
}

export function decodeWriteRequestBytes(bytes: Uint8Array): PromWriteRequest {
  try {
    const msg = WriteRequestType.decode(bytes) as unknown as PromWriteRequest;
    return msg;
  } catch (e) {
    throw new AppError(
      "BAD_REQUEST",
      `The body is not a valid Prometheus remote_write WriteRequest protobuf (${(e as Error).message}). Nothing from this request was stored.`,
    );
  }
}

const toMs = (t: PromSample["timestamp"]): number => (typeof t === "number" ? t : t.toNumber());

/** Metric families known to be counters, learnt from remote_write metadata (process memory). */
export class MetadataCache {
  private counters = new Set<string>();
  private readonly max: number;
  constructor(max = 100_000) {
    this.max = max;
  }
  learn(md: PromMetadata[]): void {
    for (const m of md) {
      if (m.type === METRIC_TYPE_COUNTER && this.counters.size < this.max) this.counters.add(m.metricFamilyName);
    }
  }
  isCounter(metric: string): boolean {
    if (this.counters.has(metric)) return true;
    return /_total$/.test(metric) || (/_(count|sum|bucket)$/.test(metric) && this.counters.has(metric.replace(/_(count|sum|bucket)$/, "")));
  }
}

export interface RemoteWriteDecoded {
  series: DecodedSeries[];
  samples: number;
  staleMarkers: number;
  metadata: number;
}

/**
 * WriteRequest → series. Counters (by metadata or the `_total` convention) get kind "counter",
 * which the detection engine turns into per-second rates; histogram `_count`/`_sum`/`_bucket`
 * series are counters too.
 */
export function writeRequestToSeries(
  req: PromWriteRequest,
  meta: MetadataCache = new MetadataCache(),
  limits: SeriesLimits = DEFAULT_SERIES_LIMITS,
): RemoteWriteDecoded {
  meta.learn(req.metadata ?? []);
  const ts = req.timeseries ?? [];
  if (ts.length > limits.maxSeriesPerRequest) {
    throw new AppError(
      "PAYLOAD_TOO_LARGE",
      `The request holds ${ts.length} series, over the limit of ${limits.maxSeriesPerRequest} per request. Lower queue_config.max_samples_per_send.`,
    );
  }
  const series: DecodedSeries[] = [];
  let samples = 0;
  let staleMarkers = 0;
  for (const t of ts) {
    let metric = "";
    const labels: Record<string, string> = {};
    for (const l of t.labels ?? []) {
      if (l.name === "__name__") metric = l.value;
      else labels[l.name] = l.value;
    }
    if (!metric) {
      const shown = (t.labels ?? []).map((l) => `${l.name}="${l.value}"`).join(",");
      throw new AppError("BAD_REQUEST", `A series has no __name__ label ({${shown.slice(0, 200)}}); every remote_write series needs a metric name.`);
    }
    const tsMs: number[] = [];
    const values: number[] = [];
    for (const s of t.samples ?? []) {
      const v = s.value ?? 0;
      if (v !== v && isStaleMarker(v)) {
        staleMarkers++;
        continue;
      }
      tsMs.push(toMs(s.timestamp ?? 0));
      values.push(v);
    }
    if (tsMs.length === 0) continue;
    samples += tsMs.length;
    const kind = meta.isCounter(metric) || /_bucket$/.test(metric) ? "counter" : "gauge";
    series.push({ metric, labels, kind, tsMs, values });
  }
  return { series, samples, staleMarkers, metadata: (req.metadata ?? []).length };
}

/** Encodes a WriteRequest and snappy-compresses it (used by tests and the benchmark). */
export function encodeWriteRequest(req: { timeseries: { labels: PromLabel[]; samples: { value: number; timestamp: number }[] }[] }): Uint8Array {
  const bytes = WriteRequestType.encode(WriteRequestType.fromObject(req)).finish();
  return snappy.compress(bytes) as Uint8Array;
}

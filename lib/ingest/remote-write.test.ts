import protobuf from "protobufjs";
import snappy from "snappyjs";
import { describe, expect, it } from "vitest";
import {
  decompressSnappy,
  encodeWriteRequest,
  isStaleMarker,
  MetadataCache,
  scanWriteRequest,
  type ScannedWriteRequest,
  snappyUncompressedLength,
  WriteRequestType,
  writeRequestToSeries,
} from "./remote-write";

const STALE = new Float64Array(new Uint32Array([2, 0x7ff00000]).buffer)[0]!;

describe("remote_write decoding", () => {
  it("round-trips a WriteRequest, skips staleness markers and keeps real NaN for validation", () => {
    const body = encodeWriteRequest({
      timeseries: [
        {
          labels: [
            { name: "__name__", value: "node_load1" },
            { name: "instance", value: "a:9100" },
          ],
          samples: [
            { value: 0.5, timestamp: 1_700_000_000_000 },
            { value: STALE, timestamp: 1_700_000_001_000 },
            { value: Number.NaN, timestamp: 1_700_000_002_000 },
          ],
        },
      ],
    });
    const out = writeRequestToSeries(decompressSnappy(body, 1 << 20));
    expect(out.staleMarkers).toBe(1);
    expect(out.series).toHaveLength(1);
    expect(out.series[0]).toMatchObject({ metric: "node_load1", labels: { instance: "a:9100" }, kind: "gauge", tsMs: [1_700_000_000_000, 1_700_000_002_000] });
    expect(out.series[0]!.values[0]).toBe(0.5);
    expect(Number.isNaN(out.series[0]!.values[1])).toBe(true);
    expect(isStaleMarker(Number.NaN)).toBe(false);
  });

  it("marks counters from metadata and the _total convention", () => {
    const meta = new MetadataCache();
    meta.learn([{ type: 1, metricFamilyName: "http_requests" }]);
    expect(meta.isCounter("http_requests")).toBe(true);
    expect(meta.isCounter("errors_total")).toBe(true);
    expect(meta.isCounter("http_requests_count")).toBe(true);
    expect(meta.isCounter("node_load1")).toBe(false);
  });

  it("reads the snappy length header and refuses oversized or corrupt bodies", () => {
    const raw = WriteRequestType.encode(WriteRequestType.fromObject({ timeseries: [] })).finish();
    const big = snappy.compress(new Uint8Array(5000));
    expect(snappyUncompressedLength(big)).toBe(5000);
    expect(() => decompressSnappy(big, 1000)).toThrow(/decompresses to 5000 bytes/);
    expect(() => decompressSnappy(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), 1000)).toThrow(/not snappy-compressed/);
    expect(() => decompressSnappy(new Uint8Array([10, 0xff, 0x01]), 1000)).toThrow(/not valid snappy/);
    expect(decompressSnappy(snappy.compress(new Uint8Array(0)), 1000)).toHaveLength(0);
    expect(() => scanWriteRequest(new Uint8Array([0x0a, 0x05, 0x01]))).toThrow(/not a valid Prometheus remote_write/);
    expect(raw.length).toBe(0);
  });

  it("refuses a snappy stream that ends before the length it declares (instead of zero-filling the rest)", () => {
    const data = new TextEncoder().encode("node_load1 ".repeat(10)); // 110 bytes: a one-byte length header
    const body = Uint8Array.from(snappy.compress(data));
    expect(decompressSnappy(body, 1000)).toEqual(data);
    body[0] = data.length + 10; // declares 10 bytes more than the stream holds
    expect(() => decompressSnappy(body, 1000)).toThrow(/not valid snappy/);
  });

  it("rejects series without a metric name", () => {
    const req = decompressSnappy(encodeWriteRequest({ timeseries: [{ labels: [{ name: "job", value: "x" }], samples: [{ value: 1, timestamp: 1 }] }] }), 1 << 20);
    expect(() => writeRequestToSeries(req)).toThrow(/no __name__ label/);
  });
});

describe("scanWriteRequest", () => {
  const series = (instance: string, value: number, timestamp: number) => ({
    labels: [
      { name: "__name__", value: "up" },
      { name: "instance", value: instance },
    ],
    samples: [{ value, timestamp }],
  });
  const scan = (ts: ReturnType<typeof series>[]) => scanWriteRequest(decompressSnappy(encodeWriteRequest({ timeseries: ts }), 1 << 20));

  const key = (s: ScannedWriteRequest, i: number) => s.bytes.toString("latin1", s.keyFrom[i], s.keyTo[i]);

  it("gives the same label key to the same series in every request, and samples as columns", () => {
    const a = scan([series("a:9100", 1, 1_000), series("b:9100", 2, 1_000)]);
    const b = scan([series("b:9100", 3, 2_000), series("a:9100", 4, 2_000)]);
    expect(a.series).toBe(2);
    expect(key(a, 0)).toBe(key(b, 1));
    expect(a.keyHash[0]).toBe(b.keyHash[1]);
    expect(key(a, 1)).toBe(key(b, 0));
    expect(key(a, 0)).not.toBe(key(a, 1));
    expect(key(a, 0)).toContain("a:9100");
    expect(Array.from(b.sampleSeries.subarray(0, b.samples))).toEqual([0, 1]);
    expect(Array.from(b.tsMs.subarray(0, b.samples))).toEqual([2_000, 2_000]);
    expect(Array.from(b.values.subarray(0, b.samples))).toEqual([3, 4]);
  });

  it("does not key labels that are interleaved with samples; a series holding only staleness markers is listed without samples", () => {
    const w = protobuf.Writer.create();
    const label = (name: string, value: string) => protobuf.Writer.create().uint32(10).string(name).uint32(18).string(value).finish();
    const sample = (v: number, t: number) => protobuf.Writer.create().uint32(9).double(v).uint32(16).int64(t).finish();
    const ts = protobuf.Writer.create().uint32(10).bytes(label("__name__", "up")).uint32(18).bytes(sample(7, 5_000)).uint32(10).bytes(label("job", "x")).finish();
    const stale = protobuf.Writer.create().uint32(10).bytes(label("__name__", "gone")).uint32(18).bytes(sample(STALE, 5_000)).finish();
    w.uint32(10).bytes(ts).uint32(10).bytes(stale);
    const out = scanWriteRequest(w.finish());
    expect(out.series).toBe(2);
    expect(Array.from(out.hasSamples)).toEqual([1, 0]);
    expect(out.samples).toBe(1);
    expect(out.staleMarkers).toBe(1);
    expect(Array.from(out.staleSeries)).toEqual([1]);
    expect(Array.from(out.staleTsMs)).toEqual([5_000]);
    expect(out.keyFrom[0]).toBe(-1);
    expect(out.keyFrom[1]).toBeGreaterThan(0);
    expect(out.values[0]).toBe(7);
    const full = writeRequestToSeries(w.finish());
    expect(full.series).toHaveLength(1);
    expect(full.series[0]).toMatchObject({ metric: "up", labels: { job: "x" }, tsMs: [5_000], values: [7] });
  });

  it("keeps every sample when zero values and timestamps make samples tiny (proto3 omits zero fields)", () => {
    const n = 5_000;
    const body = encodeWriteRequest({ timeseries: [{ labels: [{ name: "__name__", value: "zeros" }], samples: Array.from({ length: n }, (_, i) => ({ value: 0, timestamp: i })) }] });
    const out = scanWriteRequest(decompressSnappy(body, 1 << 20));
    expect(out.samples).toBe(n);
    expect(Array.from(out.tsMs.subarray(0, n))).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(out.values.subarray(0, n).every((v) => v === 0)).toBe(true);
  });

  it("refuses more series than the per-request limit and truncated messages", () => {
    expect(() => scanWriteRequest(decompressSnappy(encodeWriteRequest({ timeseries: [series("a", 1, 1), series("b", 1, 1)] }), 1 << 20), { maxSeriesPerRequest: 1 })).toThrow(
      /more than 1 series/,
    );
    const ok = decompressSnappy(encodeWriteRequest({ timeseries: [series("a", 1, 1)] }), 1 << 20);
    expect(() => scanWriteRequest(ok.subarray(0, ok.length - 3))).toThrow(/not a valid Prometheus remote_write WriteRequest/);
  });
});

describe("isStaleMarker", () => {
  it("accepts StaleNaN in signalling and quietened form, not Prometheus' normal NaN", () => {
    const bits = (lo: number, hi: number) => new Float64Array(new Uint32Array([lo, hi]).buffer)[0]!;
    expect(isStaleMarker(bits(2, 0x7ff00000))).toBe(true);
    expect(isStaleMarker(bits(2, 0x7ff80000))).toBe(true);
    expect(isStaleMarker(bits(1, 0x7ff80000))).toBe(false);
    expect(isStaleMarker(1)).toBe(false);
  });
});

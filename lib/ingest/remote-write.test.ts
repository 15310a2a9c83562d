import snappy from "snappyjs";
import { describe, expect, it } from "vitest";
import {
  decodeWriteRequestBytes,
  decompressSnappy,
  encodeWriteRequest,
  isStaleMarker,
  MetadataCache,
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
    const out = writeRequestToSeries(decodeWriteRequestBytes(decompressSnappy(body, 1 << 20)));
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
    expect(() => decodeWriteRequestBytes(new Uint8Array([0x0a, 0x05, 0x01]))).toThrow(/not a valid Prometheus remote_write/);
    expect(raw.length).toBe(0);
  });

  it("rejects series without a metric name", () => {
    const req = decodeWriteRequestBytes(
      decompressSnappy(encodeWriteRequest({ timeseries: [{ labels: [{ name: "job", value: "x" }], samples: [{ value: 1, timestamp: 1 }] }] }), 1 << 20),
    );
    expect(() => writeRequestToSeries(req)).toThrow(/no __name__ label/);
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

import { describe, expect, it } from "vitest";
import { ExportMetricsServiceRequest } from "./otlp-proto";
import { decodeOtlpJson, decodeOtlpProtobuf, exponentialHistogramQuantile, histogramQuantile, HistogramWindows, otlpToSeries } from "./otlp";

const T = "1700000000000000000"; // ns
const T0 = "1699999990000000000";
const request = {
  resourceMetrics: [
    {
      resource: { attributes: [{ key: "service.name", value: { stringValue: "checkout" } }, { key: "process.pid", value: { intValue: "42" } }] },
      scopeMetrics: [
        {
          metrics: [
            { name: "queue.depth", unit: "1", gauge: { dataPoints: [{ attributes: [{ key: "queue", value: { stringValue: "q1" } }], timeUnixNano: T, asInt: "7" }] } },
            {
              name: "requests",
              sum: { isMonotonic: true, aggregationTemporality: 2, dataPoints: [{ startTimeUnixNano: T0, timeUnixNano: T, asDouble: 120 }] },
            },
            {
              name: "bytes.delta",
              unit: "By",
              sum: { isMonotonic: true, aggregationTemporality: 1, dataPoints: [{ startTimeUnixNano: T0, timeUnixNano: T, asDouble: 50 }] },
            },
            {
              name: "latency",
              unit: "ms",
              histogram: {
                aggregationTemporality: 2,
                dataPoints: [{ startTimeUnixNano: T0, timeUnixNano: T, count: "100", sum: 2500, bucketCounts: ["50", "40", "10"], explicitBounds: [10, 50] }],
              },
            },
          ],
        },
      ],
    },
  ],
};

describe("OTLP metrics mapping", () => {
  it("maps JSON gauges, sums and histograms with resource job labels", () => {
    const out = otlpToSeries(decodeOtlpJson(JSON.stringify(request)));
    const byName = Object.fromEntries(out.series.map((s) => [s.metric, s]));
    expect(byName["queue.depth"]).toMatchObject({ kind: "gauge", labels: { job: "checkout", queue: "q1" }, tsMs: [1_700_000_000_000], values: [7] });
    expect(byName["requests"]).toMatchObject({ kind: "counter", values: [120] });
    expect(byName["bytes.delta"]).toMatchObject({ kind: "gauge", unit: "By/s", values: [5] });
    expect(byName["latency_count"]).toMatchObject({ kind: "counter", values: [100] });
    expect(byName["latency_sum"]).toMatchObject({ kind: "counter", values: [2500] });
    // rank 95 lies in the overflow bucket (>50) without max: the last finite bound
    expect(byName["latency_p95"]!.values[0]).toBe(50);
    expect(Object.keys(byName["requests"]!.labels)).toEqual(["job"]);
  });

  it("decodes the same request from binary protobuf", () => {
    const bytes = ExportMetricsServiceRequest.encode(ExportMetricsServiceRequest.fromObject(request)).finish();
    const fromPb = otlpToSeries(decodeOtlpProtobuf(bytes));
    const fromJson = otlpToSeries(decodeOtlpJson(JSON.stringify(request)));
    expect(fromPb.series).toEqual(fromJson.series);
  });

  it("interpolates p95 inside the bucket", () => {
    // 100 observations: 50 in (0,10], 40 in (10,50], 10 in (50,100]; rank 95 → halfway through the last
    expect(histogramQuantile(0.95, [10, 50, 100], [50, 40, 10, 0])).toBeCloseTo(75);
    expect(histogramQuantile(0.5, [10, 50], [50, 40, 10])).toBeCloseTo(10);
    expect(histogramQuantile(0.95, [10, 50], [0, 0, 0])).toBeNaN();
    expect(histogramQuantile(0.95, [10, 50], [50, 40, 10], 0, 90)).toBeCloseTo(70);
    // exponential, scale 0: buckets (1,2], (2,4], (4,8]
    expect(exponentialHistogramQuantile(0.95, 0, 0, { offset: 0, counts: [50, 40, 10] }, 0)).toBeCloseTo(6);
  });

  it("takes p95 of cumulative histograms over the latest interval", () => {
    const w = new HistogramWindows();
    expect(w.interval("k", 1, [10, 0], "10")).toEqual([10, 0]);
    expect(w.interval("k", 1, [10, 5], "10")).toEqual([0, 5]);
    expect(w.interval("k", 2, [1, 0], "10")).toEqual([1, 0]); // reset
  });

  it("rejects malformed JSON and protobuf with a pointed message", () => {
    expect(() => decodeOtlpJson("{oops")).toThrow(/not valid JSON/);
    expect(() => decodeOtlpJson(JSON.stringify({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 3 }] }] }] }))).toThrow(
      /resourceMetrics\.0\.scopeMetrics\.0\.metrics\.0\.name/,
    );
    expect(() => decodeOtlpProtobuf(new Uint8Array([0x0a, 0x10, 0x01]))).toThrow(/not a valid OTLP/);
  });
});

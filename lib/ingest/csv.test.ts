import { describe, expect, it } from "vitest";
import { parseCsv, parseCsvTimestamp } from "./csv";
import { parseStreamKey } from "./stream-key";
import { streamKey } from "@/lib/schemas/stream";

describe("CSV import", () => {
  it("parses the long layout with stream keys", () => {
    const out = parseCsv('timestamp,stream,value\n2026-01-01T00:00:00Z,"cpu{host=""a""}",1.5\n1767225610,cpu{host="a"},2\n1767225620000,mem,\n');
    expect(out.layout).toBe("long");
    expect(out.samples).toBe(2);
    expect(out.series).toEqual([
      { metric: "cpu", labels: { host: "a" }, kind: "gauge", group: "csv", tsMs: [1767225600000, 1767225610000], values: [1.5, 2] },
    ]);
  });

  it("parses the wide layout (the detection CLI's format) with empty cells as missing", () => {
    const out = parseCsv("timestamp,a,b\n1000000000000,1,\n1000000010000,2,3\n");
    expect(out.layout).toBe("wide");
    expect(out.series.map((s) => [s.metric, s.values])).toEqual([
      ["a", [1, 2]],
      ["b", [3]],
    ]);
  });

  it("names the line and column of a bad cell", () => {
    expect(() => parseCsv("timestamp,a,b\n1000000000000,1,2\n\n1000000010000,2,x\n")).toThrow(/CSV line 4: value "x" in column 3 \("b"\)/);
    expect(() => parseCsv("timestamp,stream,value\nyesterday,a,1\n")).toThrow(/CSV line 2: timestamp "yesterday"/);
    expect(() => parseCsv("time,a\n1,2\n")).toThrow(/CSV line 1: the first column must be "timestamp"/);
    expect(() => parseCsv('timestamp,a\n1,"2\n')).toThrow(/CSV is malformed/);
  });

  it("refuses out-of-bounds times per sample with line and column, keeps the rest; NaN and Inf cells are values", () => {
    const now = Date.UTC(2026, 0, 1);
    const out = parseCsv("timestamp,a,b\n1767225000,1,NaN\n1767229200,2,3\n-5,4,\n1767225001,-inf,5\n", { nowMs: now });
    expect(out.refused).toBe(3);
    expect(out.refusedExamples).toEqual([
      "line 3, column 1: timestamp 2026-01-01T01:00:00.000Z is more than 10 minutes in the future (check the sender's clock)",
      "line 3, column 1: timestamp 2026-01-01T01:00:00.000Z is more than 10 minutes in the future (check the sender's clock)",
      "line 4, column 1: timestamp 1969-12-31T23:59:55.000Z is before 1970",
    ]);
    expect(out.series.map((s) => [s.metric, s.values])).toEqual([
      ["a", [1, -Infinity]],
      ["b", [Number.NaN, 5]],
    ]);
    // a number no date can hold is not a time: the file is refused
    expect(() => parseCsv("timestamp,a\n1e20,1\n")).toThrow(/CSV line 2: timestamp "1e20" in column 1/);
    expect(() => parseCsv("timestamp,a\n100000000000000000000,1\n")).toThrow(/CSV line 2: timestamp "100000000000000000000"/);
  });

  it("reads epoch seconds, milliseconds and ISO", () => {
    expect(parseCsvTimestamp("1700000000")).toBe(1_700_000_000_000);
    expect(parseCsvTimestamp("1700000000000")).toBe(1_700_000_000_000);
    expect(parseCsvTimestamp("2023-11-14 22:13:20Z")).toBe(1_700_000_000_000);
  });

  it("parseStreamKey inverts streamKey", () => {
    const labels = { job: "api", path: '/a"b', "service.name": "x" };
    expect(parseStreamKey(streamKey("http_requests", labels))).toEqual({ metric: "http_requests", labels });
    expect(() => parseStreamKey("m{a=b}")).toThrow(/labels must look like/);
  });
});

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

  it("keeps the first sample of a stream at a time given twice, and counts and names the others (the import stores only the first)", () => {
    // wide: a repeated row; long: a stream's row listed again, out of order
    const wide = parseCsv("timestamp,a,b\n1700000000,1,2\n1700000000,3,4\n1700000000,5,\n1700000010,6,7\n");
    expect(wide.series.map((s) => [s.metric, s.values])).toEqual([
      ["a", [1, 6]],
      ["b", [2, 7]],
    ]);
    expect(wide).toMatchObject({ rows: 4, samples: 4, duplicates: 3 });
    expect(wide.duplicateExamples).toEqual([
      "a at 2023-11-14T22:13:20.000Z: 3 samples, the first in the file kept",
      "b at 2023-11-14T22:13:20.000Z: 2 samples, the first in the file kept",
    ]);
    const long = parseCsv('timestamp,stream,value\n1700000010,m,1\n1700000000,m,2\n1700000010,"m{}",3\n1700000000,n,4\n');
    expect(long.series.map((s) => [s.metric, s.tsMs, s.values])).toEqual([
      ["m", [1_700_000_010_000, 1_700_000_000_000], [1, 2]],
      ["n", [1_700_000_000_000], [4]],
    ]);
    expect(long).toMatchObject({ samples: 3, duplicates: 1, duplicateExamples: ["m at 2023-11-14T22:13:30.000Z: 2 samples, the first in the file kept"] });
  });

  it("says where a label value holds a raw control character or a bad escape, and how to write it (not the JSON parser's words)", () => {
    // the stream cell is `cpu{host="a<U+0001>b"}`: its 12th character is the control character
    const raw = () => parseCsv('timestamp,stream,value\n1700000000,ok,1\n1700000000,"cpu{host=""a\u0001b""}",1\n');
    expect(raw).toThrow(
      String.raw`CSV line 3, column 2: stream "cpu{host="a\u0001b"}": the value of label "host" holds a raw control character (U+0001) at character 12 of the stream name. Label values are written as JSON strings: write it as \u0001 or remove it. Nothing from this file was stored.`,
    );
    expect(raw).not.toThrow(/JSON at position|Bad control/);
    // a raw tab in a wide header: line 1, the header's column
    expect(() => parseCsv('timestamp,a,"m{x=""1"",y=""\t""}"\n1700000000,1,2\n')).toThrow(
      String.raw`CSV line 1, column 3: stream "m{x="1",y="\u0009"}": the value of label "y" holds a raw control character (U+0009) at character 12 of the stream name.`,
    );
    expect(() => parseCsv(String.raw`timestamp,stream,value
1700000000,"m{a=""\x""}",1
`)).toThrow(String.raw`CSV line 2, column 2: stream "m{a="\x"}": the value of label "a" has an invalid escape "\x" at character 6 of the stream name. Label values are written as JSON strings: write a backslash as \\, a quote as \", a control character as \uXXXX.`);
    expect(() => parseCsv(String.raw`timestamp,stream,value
1700000000,"m{a=""\u12""}",1
`)).toThrow(/invalid escape "\\u" at character 6/);
    // counted as an editor shows characters: the emoji is one
    expect(() => parseCsv('timestamp,stream,value\n1700000000,"m{a=""😀\u0002""}",1\n')).toThrow(/\(U\+0002\) at character 7 of the stream name/);
    // the escapes JSON allows still read as their characters
    const escaped = parseCsv(String.raw`timestamp,stream,value
1700000000,"m{a=""\t\u0001\"""",b=""\\""}",1
`);
    expect(escaped.series[0]!.labels).toEqual({ a: '\t\u0001"', b: "\\" });
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

  it("parseStreamKey refuses a label it could not keep: given twice, or named __proto__ (which an object does not store)", () => {
    expect(() => parseStreamKey('m{a="1",a="2"}')).toThrow(/label "a" is given twice/);
    // it was dropped: `p{__proto__="x"}` became the stream `p`
    expect(() => parseStreamKey('p{__proto__="x"}')).toThrow(/label "__proto__" is not a valid label name/);
  });

  it("one stream spelled two ways is one series (long layout), and two columns of one stream are refused (wide)", () => {
    const long = parseCsv('timestamp,stream,value\n1700000000,"m{a=""1"",b=""2""}",1\n1700000010,"m{b=""2"", a=""1""}",2\n');
    expect(long.series).toHaveLength(1);
    expect(long.series[0]).toMatchObject({ metric: "m", labels: { a: "1", b: "2" }, tsMs: [1_700_000_000_000, 1_700_000_010_000], values: [1, 2] });
    // the import kept one of two samples at a time and dropped the other column's without a word
    expect(() => parseCsv('timestamp,"m{a=""1"",b=""2""}","m{b=""2"",a=""1""}"\n1700000000,1,2\n')).toThrow(/CSV line 1: columns "m\{a="1",b="2"\}" and "m\{b="2",a="1"\}" name the same stream/);
    expect(() => parseCsv("timestamp,a,a\n1700000000,1,2\n")).toThrow(/CSV line 1: column "a" appears twice/);
  });

  it("refuses a header of a million columns (a 2 MB line) with a 400 in seconds", () => {
    const t0 = performance.now();
    expect(() => parseCsv(`timestamp,${"c,".repeat(999_999)}c\n`)).toThrow(/CSV line 1: more than 50000 stream columns/);
    expect(() => parseCsv("timestamp,a,b,c\n1700000000,1,2,3\n", { maxSeries: 2 })).toThrow(/more than 2 stream columns/);
    // csv-parse's own time for the 2 MB line included
    expect(performance.now() - t0).toBeLessThan(10_000);
  });
});

describe("parseCsv: one stream per file column, ground truth apart", () => {
  const body = "timestamp,value,is_anomaly\n1700000000,92,0\n1700000060,93,1\n1700000120,92,0\n";
  it("names a generic value column after the file, so two such files stay two streams", () => {
    const a = parseCsv(body, { file: "web-a latency.csv" });
    const b = parseCsv(body, { file: "C:\\exports\\web-b.csv" });
    expect(a.series.map((x) => x.metric)).toEqual(["web_a_latency"]);
    expect(b.series.map((x) => x.metric)).toEqual(["web_b"]);
    expect(parseCsv(body, { file: "x.csv", metric: "checkout_p99" }).series.map((x) => x.metric)).toEqual(["checkout_p99"]);
    expect(parseCsv(body, { file: "2014.csv" }).series[0]!.metric).toBe("_2014");
  });
  it("keeps ground-truth columns out of the streams and counts what they mark", () => {
    const r = parseCsv(body, { file: "a.csv" });
    expect(r.series).toHaveLength(1);
    expect(r.series[0]!.values).toEqual([92, 93, 92]);
    expect(r.groundTruth).toEqual([{ column: "is_anomaly", marked: 1, ranges: [{ startMs: 1700000060_000, endMs: 1700000060_000 }] }]);
    expect(parseCsv("timestamp,cpu,label\n1700000000,1,anomaly\n", {}).groundTruth).toEqual([{ column: "label", marked: 1, ranges: [{ startMs: 1700000000_000, endMs: 1700000000_000 }] }]);
    expect(() => parseCsv("timestamp,is_anomaly\n1700000000,1\n")).toThrow(/no stream columns/);
  });
  it("keeps named columns as they are", () => {
    expect(parseCsv("timestamp,cpu,mem\n1700000000,1,2\n", { file: "f.csv" }).series.map((x) => x.metric)).toEqual(["cpu", "mem"]);
    expect(parseCsv("timestamp,value,y\n1700000000,1,2\n", { file: "f.csv" }).series.map((x) => x.metric)).toEqual(["f_value", "f_y"]);
  });

  it("turns runs of marked rows into labelled time ranges, in time order even when the file is not", () => {
    const rows = [
      [300, 1],
      [0, 0],
      [60, 1],
      [120, 1],
      [180, 0],
      [240, 1],
      [360, 0],
    ];
    const body = `timestamp,latency,is_anomaly\n${rows.map(([t, m]) => `${1700000000 + t!},5,${m}`).join("\n")}\n`;
    const gt = parseCsv(body, { nowMs: 1800000000_000 }).groundTruth;
    const at = (s: number) => (1700000000 + s) * 1000;
    expect(gt).toEqual([{ column: "is_anomaly", marked: 4, ranges: [{ startMs: at(60), endMs: at(120) }, { startMs: at(240), endMs: at(300) }] }]);
  });
});

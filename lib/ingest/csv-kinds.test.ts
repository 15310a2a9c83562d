import { describe, expect, it } from "vitest";
import { csvColumnKind, declaredOrDetected, parseDeclaredKinds } from "./csv-kinds";
import type { TStreamKind } from "@/lib/schemas/stream";
import type { DecodedSeries } from "./types";
import { isCounterName } from "./counter-name";

const times = (n: number) => Array.from({ length: n }, (_, k) => 1_700_000_000_000 + k * 60_000);
const total = (n: number) => Array.from({ length: n }, (_, k) => 1000 + 37 * k);
const wander = (n: number) => Array.from({ length: n }, (_, k) => 50 + 10 * Math.sin(k));
const declare = (kinds: Record<string, TStreamKind>) => new Map(Object.entries(kinds));

describe("a CSV column's kind", () => {
  it("a cumulative column is a counter by its values, a wandering one a gauge", () => {
    expect(csvColumnKind("requests", times(100), total(100))).toEqual({ kind: "counter", from: "values" });
    expect(csvColumnKind("cpu", times(100), wander(100))).toEqual({ kind: "gauge", from: "values" });
  });

  it("takes the values in time order (a long-layout file may list them in any order)", () => {
    const t = times(100).reverse();
    expect(csvColumnKind("requests", t, total(100).reverse())).toEqual({ kind: "counter", from: "values" });
  });

  it("a Prometheus counter name decides a short column, unless its values fall or go negative", () => {
    expect(csvColumnKind("http_requests_total", times(3), [5, 9, 9])).toEqual({ kind: "counter", from: "name" });
    expect(csvColumnKind("le_bucket", times(3), [5, 9, 1])).toEqual({ kind: "counter", from: "name" }); // a reset
    expect(csvColumnKind("errors_total", times(100), wander(100))).toEqual({ kind: "gauge", from: "values" });
    expect(csvColumnKind("errors_total", times(3), [-1, 0, 1])).toEqual({ kind: "gauge", from: "values" });
    // `_count`/`_sum` without metadata: the values decide
    expect(csvColumnKind("latency_count", times(10), total(10))).toEqual({ kind: "gauge", from: "values" });
    expect(csvColumnKind("latency_count", times(100), total(100))).toEqual({ kind: "counter", from: "values" });
  });

  it("the name rule is remote_write's", () => {
    expect(["a_total", "a_bucket", "a_count", "a_sum", "a"].map((m) => isCounterName(m))).toEqual([true, true, false, false, false]);
    expect(["a_count", "a_sum", "a", "b_count"].map((m) => isCounterName(m, (f) => f === "a"))).toEqual([true, true, true, false]);
  });

  it("a declared kind wins over the name and the values, by stream key or metric name", () => {
    const series = (metric: string, labels: Record<string, string>, values: number[]): DecodedSeries => ({ metric, labels, kind: "gauge", tsMs: times(values.length), values });
    const file = [series("requests", {}, total(100)), series("cpu", { host: "a" }, wander(100)), series("cpu", { host: "b" }, wander(100)), series("jobs_total", {}, [1, 2])];
    expect(declaredOrDetected(file, new Map())).toEqual([
      { kind: "counter", from: "values" },
      { kind: "gauge", from: "values" },
      { kind: "gauge", from: "values" },
      { kind: "counter", from: "name" },
    ]);
    expect(declaredOrDetected(file, declare({ requests: "gauge", 'cpu{host="b"}': "counter", jobs_total: "gauge" })).map((k) => `${k.kind}/${k.from}`)).toEqual([
      "gauge/declared",
      "gauge/values",
      "counter/declared",
      "gauge/declared",
    ]);
    // by metric name: every label set of it
    expect(declaredOrDetected(file, declare({ cpu: "counter" })).map((k) => k.kind)).toEqual(["counter", "counter", "counter", "counter"]);
    expect(() => declaredOrDetected(file, declare({ reqests: "counter" }))).toThrow(/kinds names "reqests", which the file has no stream of/);
  });

  it("a stream named like an Object property (constructor, toString) is not declared by the empty declarations", () => {
    // `name in {}` found Object.prototype.constructor: the import stored the function's text as a kind (a 500)
    const series = (metric: string): DecodedSeries => ({ metric, labels: {}, kind: "gauge", tsMs: times(3), values: [1, 2, 3] });
    const kinds = declaredOrDetected(["constructor", "toString", "hasOwnProperty", "__proto__"].map(series), new Map());
    expect(kinds.map((k) => `${k.kind}/${k.from}`)).toEqual(["gauge/values", "gauge/values", "gauge/values", "gauge/values"]);
  });

  it("a kinds entry keyed __proto__ declares the stream named __proto__ (it was dropped without a word), and is refused when the file has none", () => {
    const series = (metric: string): DecodedSeries => ({ metric, labels: {}, kind: "gauge", tsMs: times(3), values: [1, 2, 3] });
    const declared = parseDeclaredKinds('{"__proto__":"counter"}');
    expect([...declared]).toEqual([["__proto__", "counter"]]);
    expect(declaredOrDetected(["a", "__proto__"].map(series), declared).map((k) => `${k.kind}/${k.from}`)).toEqual(["gauge/values", "counter/declared"]);
    expect(() => declaredOrDetected(["a"].map(series), declared)).toThrow(/kinds names "__proto__", which the file has no stream of/);
    expect(() => parseDeclaredKinds('{"__proto__":"rate"}')).toThrow(/kinds at "__proto__": .*gauge, counter or event/);
  });

  it("reads the kinds parameter, refusing what is not a JSON object of kinds", () => {
    expect(parseDeclaredKinds(null)).toEqual(new Map());
    expect(parseDeclaredKinds('{"a":"counter","b":"gauge"}')).toEqual(declare({ a: "counter", b: "gauge" }));
    expect(() => parseDeclaredKinds("a=counter")).toThrow(/kinds must be a JSON object/);
    expect(() => parseDeclaredKinds('{"a":"rate"}')).toThrow(/kinds at "a": .*gauge, counter or event/);
    expect(() => parseDeclaredKinds('["a"]')).toThrow(/kinds must be a JSON object/);
    expect(() => parseDeclaredKinds("null")).toThrow(/kinds must be a JSON object/);
  });
});

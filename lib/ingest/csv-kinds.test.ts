import { describe, expect, it } from "vitest";
import { csvColumnKind } from "./csv-kinds";
import { isCounterName } from "./counter-name";

const times = (n: number) => Array.from({ length: n }, (_, k) => 1_700_000_000_000 + k * 60_000);
const total = (n: number) => Array.from({ length: n }, (_, k) => 1000 + 37 * k);
const wander = (n: number) => Array.from({ length: n }, (_, k) => 50 + 10 * Math.sin(k));

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
});

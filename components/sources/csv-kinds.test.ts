import { describe, expect, it } from "vitest";
import { changedKinds, kindReason, type CsvPreviewStream } from "./csv-kinds";

const streams: CsvPreviewStream[] = [
  { key: "requests", samples: 100, kind: "counter", kindFrom: "values" },
  { key: "cpu", samples: 100, kind: "gauge", kindFrom: "values" },
  { key: "old", samples: 100, kind: "gauge", kindFrom: "stored" },
];

describe("the CSV preview's kinds", () => {
  it("says why a stream is a counter, and that an existing one keeps its kind", () => {
    expect(streams.map(kindReason)).toEqual(["a running total (falls only to restart): scored by its rate", "", "existing stream: keeps its kind"]);
    expect(kindReason({ kind: "counter", kindFrom: "name" })).toBe("counter by its name: scored by its rate");
  });

  it("sends only the kinds the user changed, never an existing stream's", () => {
    expect(changedKinds(streams, {})).toBeNull();
    expect(changedKinds(streams, { requests: "counter", cpu: "gauge" })).toBeNull();
    expect(changedKinds(streams, { requests: "gauge", old: "counter" })).toBe('{"requests":"gauge"}');
  });
});

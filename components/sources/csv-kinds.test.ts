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
    expect(changedKinds(streams, new Map())).toBeNull();
    expect(changedKinds(streams, new Map([["requests", "counter"], ["cpu", "gauge"]]))).toBeNull();
    expect(changedKinds(streams, new Map([["requests", "gauge"], ["old", "counter"]]))).toBe('{"requests":"gauge"}');
  });

  it("sends a kind chosen for a stream named __proto__ (an object dropped it), and none when it was not changed", () => {
    const proto: CsvPreviewStream[] = [{ key: "__proto__", samples: 3, kind: "gauge", kindFrom: "values" }];
    expect(changedKinds(proto, new Map([["__proto__", "counter"]]))).toBe('{"__proto__":"counter"}');
    expect(changedKinds(proto, new Map())).toBeNull();
  });
});

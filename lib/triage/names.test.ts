import { describe, expect, it } from "vitest";
import { anomalyName, incidentName, placeName } from "./names";

const q = (queue: string) => ({ metric: "e2e_queue_depth", key: `e2e_queue_depth{queue="${queue}"}` });
const checkout = { metric: "checkout_latency_ms", key: 'checkout_latency_ms{service="checkout"}' };

describe("names", () => {
  it("names a place by source and group", () => {
    expect(placeName("e2e-shop", "queues")).toBe("e2e-shop / queues");
    expect(placeName("host:vm", null)).toBe("host:vm");
  });

  it("names an anomaly by type and stream, counting the other streams", () => {
    expect(anomalyName({ type: "trend", streamKey: checkout.key })).toBe('trend anomaly on checkout_latency_ms{service="checkout"}');
    expect(anomalyName({ type: "point", streamKey: q("emails").key, streamCount: 3 })).toBe('point anomaly on e2e_queue_depth{queue="emails"} +2');
  });

  it("names a one-stream incident by its stream", () => {
    expect(incidentName({ sourceName: "e2e-shop", group: "queues", streamCount: 1, streams: [q("orders")] })).toBe('e2e-shop / queues: e2e_queue_depth{queue="orders"}');
  });

  it("names a wider incident by its metrics and stream count", () => {
    const streams = [checkout, q("orders"), q("emails"), q("payments")];
    expect(incidentName({ sourceName: "e2e-shop", group: "queues", streamCount: 6, streams })).toBe("e2e-shop / queues: checkout_latency_ms, e2e_queue_depth (6 streams)");
    const three = [...streams, { metric: "disk_io", key: "disk_io" }];
    expect(incidentName({ sourceName: "s", group: null, streamCount: 5, streams: three })).toBe("s: checkout_latency_ms, e2e_queue_depth +1 more (5 streams)");
  });

  it("falls back to a count when no stream is known (all deleted)", () => {
    expect(incidentName({ sourceName: "s", group: null, streamCount: 2, streams: [] })).toBe("s: 2 streams");
  });
});

import { describe, expect, it } from "vitest";
import { detectApi } from "../http/detect-handler";
import { otlpMetrics, remoteWrite } from "../http/ingest-handlers";
import { ingestRouteOf } from "./web-server";

describe("ingestRouteOf", () => {
  it("serves POSTs to the two write paths itself, with or without a query", () => {
    expect(ingestRouteOf("POST", "/api/v1/write")).toBe(remoteWrite);
    expect(ingestRouteOf("POST", "/api/v1/write?source=a")).toBe(remoteWrite);
    expect(ingestRouteOf("POST", "/v1/metrics")).toBe(otlpMetrics);
    expect(ingestRouteOf("POST", "/api/v1/detect")).toBe(detectApi);
    expect(ingestRouteOf("GET", "/api/v1/detect")).toBeUndefined();
  });

  it("leaves everything else to Next (other methods, paths, trailing slashes, CSV import)", () => {
    expect(ingestRouteOf("GET", "/api/v1/write")).toBeUndefined();
    expect(ingestRouteOf("OPTIONS", "/v1/metrics")).toBeUndefined();
    expect(ingestRouteOf("POST", "/api/v1/write/")).toBeUndefined();
    expect(ingestRouteOf("POST", "/api/v1/import/csv")).toBeUndefined();
    expect(ingestRouteOf("POST", "/api/trpc/settings.update")).toBeUndefined();
    expect(ingestRouteOf("POST", undefined)).toBeUndefined();
  });
});

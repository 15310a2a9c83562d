import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAppError } from "@/lib/errors/app-error";
import { detectApi } from "../http/detect-handler";
import { otlpMetrics, remoteWrite } from "../http/ingest-handlers";
import { ingestRouteOf, nodeIngestRequest } from "./web-server";

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

/** A loopback server that reads each request's body with a 1 KiB limit and answers what happened. */
let server: http.Server;
let url: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const r = nodeIngestRequest(req);
    r.body(1024).then(
      (body) => res.end(JSON.stringify({ bytes: body.byteLength, first: body[0] ?? null, source: r.query("source"), type: r.header("content-type") ?? null })),
      (e: unknown) => {
        res.statusCode = isAppError(e) ? e.status : 500;
        res.end(JSON.stringify({ error: (e as Error).message }));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** A body sent in chunks without Content-Length (chunked transfer encoding). */
function chunked(n: number, chunk = 100): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(c) {
      if (sent >= n) return c.close();
      const size = Math.min(chunk, n - sent);
      c.enqueue(new Uint8Array(size).fill(7));
      sent += size;
    },
  });
}

describe("nodeIngestRequest", () => {
  it("reads headers, ?source= and a body sent in many chunks", async () => {
    const res = await fetch(`${url}/api/v1/write?source=edge-1&x=2`, { method: "POST", headers: { "content-type": "application/x-protobuf" }, body: chunked(1000), duplex: "half" } as RequestInit);
    expect(await res.json()).toEqual({ bytes: 1000, first: 7, source: "edge-1", type: "application/x-protobuf" });
  });

  it("gives no source without a query string, and an empty body when none was sent", async () => {
    const res = await fetch(`${url}/v1/metrics`, { method: "POST" });
    expect(await res.json()).toEqual({ bytes: 0, first: null, source: null, type: null });
  });

  it("answers 413 from the declared Content-Length, and the connection still reads the answer", async () => {
    const res = await fetch(`${url}/`, { method: "POST", body: new Uint8Array(5000) });
    expect(res.status).toBe(413);
    expect((await res.json()).error).toMatch(/^The request body is 5000 bytes, over the limit of 1024 bytes/);
  });

  it("stops at the limit when the body arrives without a length", async () => {
    const res = await fetch(`${url}/`, { method: "POST", body: chunked(64 * 1024), duplex: "half" } as RequestInit);
    expect(res.status).toBe(413);
    expect((await res.json()).error).toMatch(/^The request body is more than 1024 bytes/);
    // the server stays usable
    expect((await fetch(`${url}/`, { method: "POST", body: "ok" })).status).toBe(200);
  });
});

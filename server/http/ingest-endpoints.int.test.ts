import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import snappy from "snappyjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeWriteRequest, WriteRequestType } from "@/lib/ingest/remote-write";
import { ExportMetricsServiceRequest, ExportMetricsServiceResponse, RpcStatus } from "@/lib/ingest/otlp-proto";
import { pool } from "../db";
import { countSamples } from "../repos/storage/samples";
import { ensureSource } from "../repos/sources-repo";
import { heartbeat } from "../repos/worker-status-repo";
import { ensureIngestToken } from "../services/auth/ingest-token";
import { ingestSeries } from "../services/ingest/ingest-service";
import { createTestDatabase, type TestDatabase } from "../testing/test-db";
import { nestedOtlpJson, nestedOtlpProtobuf, snappyCompress, writeRequestBytes } from "../testing/hostile-payloads";
import { startOmenServer, type OmenServer } from "../testing/omen-server";

/**
 * Every bad input to the three write endpoints, against the real web app: status code, an
 * actionable message, and the database unchanged. Then the good paths, staleness markers,
 * idempotent re-sends and back-pressure.
 */
const MAX_BODY = 1024 * 1024;
const STALE = new Float64Array(new Uint32Array([2, 0x7ff00000]).buffer)[0]!;

let tdb: TestDatabase;
let omen: OmenServer;

beforeAll(async () => {
  tdb = await createTestDatabase();
  omen = await startOmenServer({ databaseUrl: tdb.url, env: { OMEN_MAX_BODY_BYTES: String(MAX_BODY), OMEN_WORKER_MAX_LAG: "1000" } });
  await ensureSource("capped", "remote_write", {}, 3);
});
afterAll(async () => {
  await omen?.stop();
  await tdb?.drop();
});

const now = () => Date.now();
const rw = (series: { name: string; labels?: Record<string, string>; samples: [number, number][] }[]) =>
  encodeWriteRequest({
    timeseries: series.map((s) => ({
      labels: [{ name: "__name__", value: s.name }, ...Object.entries(s.labels ?? {}).map(([name, value]) => ({ name, value }))],
      samples: s.samples.map(([timestamp, value]) => ({ timestamp, value })),
    })),
  });
const otlpJson = (value: unknown, tNs = `${now()}000000`) =>
  JSON.stringify({
    resourceMetrics: [
      {
        resource: { attributes: [{ key: "service.name", value: { stringValue: "svc" } }] },
        scopeMetrics: [{ metrics: [{ name: "queue_depth", gauge: { dataPoints: [{ timeUnixNano: tNs, asDouble: value }] } }] }],
      },
    ],
  });

const rwRaw = (timestamp: bigint, value: number) => snappyCompress(writeRequestBytes([["__name__", "m"]], [[timestamp, value]]));
const rwLabelBytes = (valueBytes: Uint8Array) => snappyCompress(writeRequestBytes([["__name__", "m"], ["a", valueBytes]], [[Date.now(), 1]]));

interface Case {
  name: string;
  path: string;
  headers?: Record<string, string>;
  auth?: string | null;
  body: () => Uint8Array | string;
  status: number;
  message: RegExp;
}

const RW = { "content-type": "application/x-protobuf", "content-encoding": "snappy", "x-prometheus-remote-write-version": "0.1.0" };
const PB = { "content-type": "application/x-protobuf" };
const JS = { "content-type": "application/json" };
const ok = () => rw([{ name: "good_metric", samples: [[now(), 1]] }]);

const cases: Case[] = [
  { name: "remote_write without token", path: "/api/v1/write", headers: RW, auth: null, body: ok, status: 401, message: /Missing ingest token.*Authorization: Bearer/ },
  { name: "remote_write with a wrong token", path: "/api/v1/write", headers: RW, auth: "Bearer nope-nope-nope-nope", body: ok, status: 401, message: /Invalid or revoked ingest token/ },
  { name: "remote_write wrong content type", path: "/api/v1/write", headers: { ...RW, "content-type": "text/plain" }, body: ok, status: 415, message: /Content-Type must be application\/x-protobuf/ },
  { name: "corrupt snappy", path: "/api/v1/write", headers: RW, body: () => new Uint8Array([0x40, 0xff, 0x13, 0x99, 0x01, 0x02]), status: 400, message: /not valid snappy/ },
  { name: "snappy without a length header", path: "/api/v1/write", headers: RW, body: () => new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), status: 400, message: /not snappy-compressed/ },
  { name: "invalid protobuf", path: "/api/v1/write", headers: RW, body: () => snappy.compress(new Uint8Array([0x0a, 0x40, 0x01, 0x02])), status: 400, message: /not a valid Prometheus remote_write WriteRequest/ },
  { name: "series without __name__", path: "/api/v1/write", headers: RW, body: () => encodeWriteRequest({ timeseries: [{ labels: [{ name: "job", value: "x" }], samples: [{ value: 1, timestamp: now() }] }] }), status: 400, message: /no __name__ label/ },
  { name: "too many labels", path: "/api/v1/write", headers: RW, body: () => rw([{ name: "m", labels: Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`l${i}`, "v"])), samples: [[now(), 1]] }]), status: 400, message: /70 labels, over the limit of 64/ },
  { name: "body over the size limit", path: "/api/v1/write", headers: RW, body: () => new Uint8Array(MAX_BODY + 10), status: 413, message: /over the limit of 1048576 bytes \(OMEN_MAX_BODY_BYTES\)/ },
  { name: "snappy that inflates over the limit", path: "/api/v1/write", headers: RW, body: () => snappy.compress(new Uint8Array(MAX_BODY * 2)), status: 413, message: /decompresses to 2097152 bytes/ },
  {
    name: "too many series for the source's cardinality cap",
    path: "/api/v1/write?source=capped",
    headers: RW,
    body: () => rw(Array.from({ length: 5 }, (_, i) => ({ name: "m", labels: { id: String(i) }, samples: [[now(), 1]] as [number, number][] }))),
    status: 400,
    message: /Too many series for source "capped".*cardinality limit of 3.*raise the source's limit/,
  },
  { name: "OTLP without token", path: "/v1/metrics", headers: JS, auth: null, body: () => otlpJson(1), status: 401, message: /Missing ingest token/ },
  { name: "OTLP wrong content type", path: "/v1/metrics", headers: { "content-type": "text/plain" }, body: () => otlpJson(1), status: 415, message: /application\/x-protobuf or application\/json/ },
  { name: "OTLP invalid protobuf", path: "/v1/metrics", headers: PB, body: () => new Uint8Array([0x0a, 0x7f, 0x01]), status: 400, message: /not a valid OTLP ExportMetricsServiceRequest protobuf/ },
  { name: "OTLP invalid JSON", path: "/v1/metrics", headers: JS, body: () => "{resourceMetrics: [", status: 400, message: /not valid JSON/ },
  { name: "OTLP JSON of the wrong shape", path: "/v1/metrics", headers: JS, body: () => JSON.stringify({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 5 }] }] }] }), status: 400, message: /resourceMetrics\.0\.scopeMetrics\.0\.metrics\.0\.name/ },
  { name: "OTLP body over the size limit", path: "/v1/metrics", headers: JS, body: () => " ".repeat(MAX_BODY + 1), status: 413, message: /OMEN_MAX_BODY_BYTES/ },
  { name: "CSV without token", path: "/api/v1/import/csv", headers: { "content-type": "text/csv" }, auth: null, body: () => "timestamp,a\n1700000000,1\n", status: 401, message: /Sign in, or send `Authorization: Bearer <token>`/ },
  { name: "CSV with a bad cell", path: "/api/v1/import/csv", headers: { "content-type": "text/csv" }, body: () => "timestamp,a,b\n1700000000,1,2\n1700000010,3,abc\n", status: 400, message: /CSV line 3: value "abc" in column 3 \("b"\) is not a number/ },
  { name: "CSV with a bad timestamp", path: "/api/v1/import/csv", headers: { "content-type": "text/csv" }, body: () => "timestamp,stream,value\nnoon,a,1\n", status: 400, message: /CSV line 2: timestamp "noon"/ },
  { name: "a timestamp of 2^63 - 1 only", path: "/api/v1/write", headers: RW, body: () => rwRaw(9223372036854775807n, 1), status: 400, message: /1 sample refused: m: timestamp 9223372036854776000 ms since 1970 is more than 10 minutes in the future.*Nothing was stored/ },
  { name: "a label value that is not UTF-8", path: "/api/v1/write", headers: RW, body: () => rwLabelBytes(new Uint8Array([0x61, 0xff, 0xfe, 0x62])), status: 400, message: /label value that is not valid UTF-8/ },
  { name: "a label value with a NUL character", path: "/api/v1/write", headers: RW, body: () => rw([{ name: "m", labels: { a: "x\u0000y" }, samples: [[now(), 1]] }]), status: 400, message: /NUL character/ },
  { name: "OTLP JSON nested 10,000 levels deep", path: "/v1/metrics", headers: JS, body: () => nestedOtlpJson(10_000), status: 400, message: /nested more than 64 levels/ },
  { name: "OTLP protobuf nested 5,000 levels deep", path: "/v1/metrics", headers: PB, body: () => nestedOtlpProtobuf(5_000), status: 400, message: /nested more than 64 levels|not a valid OTLP ExportMetricsServiceRequest protobuf/ },
  { name: "CSV timestamp 1e20", path: "/api/v1/import/csv", headers: { "content-type": "text/csv" }, body: () => "timestamp,stream,value\n100000000000000000000,a,1\n", status: 400, message: /CSV line 2: timestamp "100000000000000000000" in column 1 is not ISO-8601/ },
  { name: "CSV of the wrong content type", path: "/api/v1/import/csv", headers: { "content-type": "application/json" }, body: () => "timestamp,a\n1700000000,1\n", status: 415, message: /Content-Type must be text\/csv/ },
  { name: "CSV that is not UTF-8", path: "/api/v1/import/csv", headers: { "content-type": "text/csv" }, body: () => new Uint8Array([0x74, 0x69, 0x6d, 0x65, 0xff, 0x0a]), status: 400, message: /not UTF-8/ },
  { name: "CSV with kinds that are not JSON", path: "/api/v1/import/csv?kinds=a%3Dcounter", headers: { "content-type": "text/csv" }, body: () => "timestamp,a\n1700000000,1\n", status: 400, message: /kinds must be a JSON object of stream → kind/ },
  { name: "CSV with an unknown kind", path: `/api/v1/import/csv?kinds=${encodeURIComponent('{"a":"rate"}')}`, headers: { "content-type": "text/csv" }, body: () => "timestamp,a\n1700000000,1\n", status: 400, message: /kinds at "a": .*gauge, counter or event/ },
  { name: "CSV with a kind for no stream of the file", path: `/api/v1/import/csv?kinds=${encodeURIComponent('{"b":"counter"}')}`, headers: { "content-type": "text/csv" }, body: () => "timestamp,a\n1700000000,1\n", status: 400, message: /kinds names "b", which the file has no stream of/ },
  { name: "CSV with a kind keyed __proto__ for no stream of the file", path: `/api/v1/import/csv?kinds=${encodeURIComponent('{"__proto__":"counter"}')}`, headers: { "content-type": "text/csv" }, body: () => "timestamp,a\n1700000000,1\n", status: 400, message: /kinds names "__proto__", which the file has no stream of/ },
  {
    name: "CSV with a raw control character in a label value",
    path: "/api/v1/import/csv",
    headers: { "content-type": "text/csv" },
    body: () => 'timestamp,stream,value\n1700000000,"m{a=""x\u0001""}",1\n',
    status: 400,
    message: /^CSV line 2, column 2: stream "m\{a="x\\u0001"\}": the value of label "a" holds a raw control character \(U\+0001\) at character 7 of the stream name\. Label values are written as JSON strings: write it as \\u0001 or remove it\./,
  },
];

async function post(path: string, body: Uint8Array | string, headers: Record<string, string>, auth: string | null | undefined) {
  const h: Record<string, string> = { ...headers };
  if (auth !== null) h.authorization = auth ?? `Bearer ${omen.token}`;
  return fetch(`${omen.url}${path}`, { method: "POST", headers: h, body: typeof body === "string" ? body : Buffer.from(body) });
}

async function messageOf(res: Response): Promise<string> {
  const buf = new Uint8Array(await res.arrayBuffer());
  if ((res.headers.get("content-type") ?? "").includes("protobuf")) return String((RpcStatus.decode(buf) as unknown as { message: string }).message);
  return String((JSON.parse(new TextDecoder().decode(buf)) as { error: string }).error);
}

async function dbState() {
  const streams = await pool().query<{ n: number }>("SELECT count(*)::int AS n FROM stream");
  return { samples: await countSamples(), streams: streams.rows[0]!.n };
}

describe("ingest endpoints reject bad input with an actionable 4xx and store nothing", () => {
  it.each(cases)("$name → $status", async (c) => {
    const before = await dbState();
    const res = await post(c.path, c.body(), c.headers ?? {}, c.auth);
    const msg = await messageOf(res);
    expect({ status: res.status, msg }).toMatchObject({ status: c.status });
    expect(msg).toMatch(c.message);
    expect(await dbState()).toEqual(before);
  });

  it("OTLP binary errors carry a google.rpc.Status with the message", async () => {
    const res = await post("/v1/metrics", new Uint8Array([0x0a, 0x7f, 0x01]), PB, undefined);
    expect(res.headers.get("content-type")).toContain("application/x-protobuf");
    const st = RpcStatus.decode(new Uint8Array(await res.arrayBuffer())) as unknown as { code: number; message: string };
    expect(st.code).toBe(3);
  });
});

describe("ingest endpoints accept good input durably", () => {
  it("remote_write: 204, committed, staleness markers skipped, re-send idempotent", async () => {
    const before = await countSamples();
    const t = now() - 5_000;
    const body = rw([
      { name: "rw_metric", labels: { b: "2", a: "1" }, samples: [[t, 1], [t + 1000, STALE], [t + 2000, 3]] },
      { name: "rw_requests_total", samples: [[t, 10]] },
    ]);
    const res = await post("/api/v1/write", body, RW, undefined);
    expect(res.status).toBe(204);
    expect(await countSamples()).toBe(before + 3);
    const again = await post("/api/v1/write", body, RW, undefined);
    expect(again.status).toBe(204);
    expect(await countSamples()).toBe(before + 3);
    const kinds = await pool().query<{ key: string; kind: string }>("SELECT key, kind::text AS kind FROM stream WHERE metric LIKE 'rw_%' ORDER BY key");
    expect(kinds.rows).toEqual([
      { key: 'rw_metric{a="1",b="2"}', kind: "gauge" },
      { key: "rw_requests_total", kind: "counter" },
    ]);
  });

  it("OTLP protobuf and JSON: 200 with an ExportMetricsServiceResponse", async () => {
    const before = await countSamples();
    const pbReq = JSON.parse(otlpJson(5)) as object;
    const pb = ExportMetricsServiceRequest.encode(ExportMetricsServiceRequest.fromObject(pbReq)).finish();
    const r1 = await post("/v1/metrics", pb, PB, undefined);
    expect(r1.status).toBe(200);
    expect(r1.headers.get("content-type")).toContain("application/x-protobuf");
    const r2 = await post("/v1/metrics", otlpJson(6, `${now() - 1000}000000`), JS, undefined);
    expect(r2.status).toBe(200);
    expect(await r2.json()).toEqual({});
    expect(await countSamples()).toBe(before + 2);
  });

  it("CSV import: long and wide", async () => {
    const before = await countSamples();
    const r = await post("/api/v1/import/csv", "timestamp,csv_a,csv_b\n1700000000,1,2\n1700000010,3,\n", { "content-type": "text/csv" }, undefined);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ layout: "wide", rows: 2, inserted: 3, streams: [{ key: "csv_a", kind: "gauge", kindFrom: "values" }, { key: "csv_b", kind: "gauge", kindFrom: "values" }] });
    const r2 = await post("/api/v1/import/csv", 'timestamp,stream,value\n1700000020,csv_a,4\n1700000020,"csv_c{x=""1""}",5\n', { "content-type": "text/csv" }, undefined);
    expect(await r2.json()).toMatchObject({ layout: "long", inserted: 2 });
    expect(await countSamples()).toBe(before + 5);
  });

  it("CSV CLI (npm run import:csv) uploads a file and reports a bad line", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "omen-csv-"));
    const good = path.join(dir, "good.csv");
    const bad = path.join(dir, "bad.csv");
    fs.writeFileSync(good, "timestamp,cli_a,cli_b\n2026-01-01T00:00:00Z,1,2\n2026-01-01T00:00:10Z,3,4\n");
    fs.writeFileSync(bad, "timestamp,stream,value\n1700000000,cli_a,1\n1700000010,cli_a,oops\n");
    const cli = (file: string) =>
      spawnSync(process.execPath, ["--import", "tsx", "scripts/import-csv.ts", file, "--url", omen.url, "--token", omen.token], { encoding: "utf8" });
    const ok = cli(good);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/wide layout, 2 rows.*4 new samples/);
    // a kind declared on the command line: the new counter is listed
    const declared = path.join(dir, "declared.csv");
    fs.writeFileSync(declared, "timestamp,cli_c,cli_d\n2026-01-01T00:00:00Z,1,2\n2026-01-01T00:00:10Z,3,4\n");
    const c = spawnSync(process.execPath, ["--import", "tsx", "scripts/import-csv.ts", declared, "--url", omen.url, "--token", omen.token, "--counter", "cli_d"], { encoding: "utf8" });
    expect(c.status).toBe(0);
    expect(c.stdout).toMatch(/Counters \(scored by their rate\): cli_d \(declared\)\./);
    const kinds = await pool().query<{ key: string; kind: string }>("SELECT key, kind::text AS kind FROM stream WHERE key IN ('cli_c', 'cli_d') ORDER BY key");
    expect(kinds.rows).toEqual([{ key: "cli_c", kind: "gauge" }, { key: "cli_d", kind: "counter" }]);
    // a stream named __proto__ declared a counter (the CLI's kinds object dropped it), and a repeated row reported
    const proto = path.join(dir, "proto.csv");
    fs.writeFileSync(proto, "timestamp,__proto__\n2026-01-01T00:00:00Z,1\n2026-01-01T00:00:00Z,5\n2026-01-01T00:00:10Z,3\n");
    const p = spawnSync(process.execPath, ["--import", "tsx", "scripts/import-csv.ts", proto, "--url", omen.url, "--token", omen.token, "--counter", "__proto__"], { encoding: "utf8" });
    expect(p.status).toBe(0);
    expect(p.stdout).toMatch(/2 new samples of 2 .*\n1 sample is skipped: each repeats a time its stream already has earlier in the file, and only the first is stored \(e\.g\. __proto__ at 2026-01-01T00:00:00\.000Z: 2 samples, the first in the file kept\)\.\nCounters \(scored by their rate\): __proto__ \(declared\)\./);
    const before = await countSamples();
    const r = cli(bad);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/HTTP 400.*CSV line 3: value "oops"/);
    expect(await countSamples()).toBe(before);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("remote_write: samples out of the time bounds are refused one by one, the others stored, 400 naming them", async () => {
    const before = await countSamples();
    const t = now() - 5_000;
    const body = rw([
      { name: "bounds_metric", samples: [[t, 1], [now() + 3_600_000, 2], [t + 1000, 3]] },
      { name: "bounds_old", samples: [[-1000, 4]] },
      { name: "bounds_ok", samples: [[t, 5]] },
    ]);
    const res = await post("/api/v1/write", body, RW, undefined);
    expect(res.status).toBe(400);
    const msg = await messageOf(res);
    expect(msg).toMatch(/^2 samples refused: bounds_metric: timestamp .* is more than 10 minutes in the future.*; bounds_old: timestamp 1969-12-31T23:59:59\.000Z is before 1970\. The other 3 samples of this request were stored \(3 new/);
    expect(await countSamples()).toBe(before + 3);
    const streams = await pool().query<{ key: string }>("SELECT key FROM stream WHERE metric LIKE 'bounds_%' ORDER BY key");
    expect(streams.rows.map((r) => r.key)).toEqual(["bounds_metric", "bounds_ok"]); // no stream for a series with nothing accepted
  });

  it("OTLP: out-of-bounds points answered with partial_success, the others stored", async () => {
    const before = await countSamples();
    const req = (tNs: string, v: number) => ({ timeUnixNano: tNs, asDouble: v });
    const body = JSON.stringify({
      resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: "otlp_bounds", gauge: { dataPoints: [req(`${now() - 1000}000000`, 1), req("100000000000000000000000", 2), req(`${now() + 3_600_000}000000`, 3)] } }] }] }],
    });
    const res = await post("/v1/metrics", body, JS, undefined);
    expect(res.status).toBe(200);
    const json = (await res.json()) as { partialSuccess: { rejectedDataPoints: string; errorMessage: string } };
    expect(json.partialSuccess.rejectedDataPoints).toBe("2");
    expect(json.partialSuccess.errorMessage).toMatch(/otlp_bounds: timestamp \d{17} ms since 1970 is more than 10 minutes in the future/);
    expect(await countSamples()).toBe(before + 1);
    // binary: the same in protobuf (whose fixed64 ends at 2^64 − 1 ns, in the year 2554)
    const pbBody = body.replace("100000000000000000000000", "18446744073709551615");
    const pb = ExportMetricsServiceRequest.encode(ExportMetricsServiceRequest.fromObject(JSON.parse(pbBody))).finish();
    const r2 = await post("/v1/metrics", pb, PB, undefined);
    expect(r2.status).toBe(200);
    const decoded = ExportMetricsServiceResponse.toObject(ExportMetricsServiceResponse.decode(new Uint8Array(await r2.arrayBuffer())), { longs: Number }) as { partialSuccess?: { rejectedDataPoints: number } };
    expect(decoded.partialSuccess?.rejectedDataPoints).toBe(2);
  });

  it("CSV: an out-of-bounds timestamp is refused with its line and column, the other rows stored", async () => {
    const before = await countSamples();
    const future = new Date(now() + 86_400_000).toISOString();
    const res = await post("/api/v1/import/csv", `timestamp,csv_bounds\n1700000000,1\n${future},2\n1969-06-01T00:00:00Z,3\n1700000010,4\n`, { "content-type": "text/csv" }, undefined);
    expect(res.status).toBe(400);
    const msg = await messageOf(res);
    expect(msg).toMatch(/2 samples refused \(CSV\): line 3, column 1: timestamp .* is more than 10 minutes in the future .*; line 4, column 1: timestamp 1969-06-01T00:00:00\.000Z is before 1970\. The other 2 samples of this request were stored/);
    expect(await countSamples()).toBe(before + 2);
  });

  it("CSV: a stream's repeated time is skipped and counted, by the check and by the import, also beside refused samples", async () => {
    const before = await countSamples();
    const file = "timestamp,csv_dup\n1700000100,1\n1700000100,2\n1700000110,3\n";
    const checked = await post("/api/v1/import/csv?dryRun=1", file, { "content-type": "text/csv" }, undefined);
    expect(await checked.json()).toMatchObject({ dryRun: true, samples: 2, duplicates: 1, streams: [{ key: "csv_dup", samples: 2 }] });
    const imported = await post("/api/v1/import/csv", file, { "content-type": "text/csv" }, undefined);
    expect(await imported.json()).toMatchObject({ received: 2, inserted: 2, duplicates: 1, duplicateExamples: ["csv_dup at 2023-11-14T22:15:00.000Z: 2 samples, the first in the file kept"] });
    expect(await countSamples()).toBe(before + 2);
    // with a refused sample the answer is a 400, which names the skipped repeats too
    const future = new Date(now() + 86_400_000).toISOString();
    const mixed = await post("/api/v1/import/csv", `timestamp,csv_dup2\n1700000100,1\n1700000100,2\n${future},3\n`, { "content-type": "text/csv" }, undefined);
    expect(mixed.status).toBe(400);
    const body = (await mixed.json()) as { error: string; details: Record<string, unknown> };
    expect(body.error).toMatch(/^1 sample refused \(CSV\): .* The other 1 sample of this request were stored .* 1 sample is skipped: each repeats a time its stream already has earlier in the file, and only the first is stored \(e\.g\. csv_dup2 at 2023-11-14T22:15:00\.000Z: 2 samples, the first in the file kept\)\.$/);
    expect(body.details).toMatchObject({ refused: 1, stored: 1, duplicates: 1 });
  });

  it("NaN, ±Inf and ±1.8e308 values are stored as sent; the staleness marker is not a value", async () => {
    const before = await countSamples();
    const t = now() - 5_000;
    const values = [Number.NaN, Infinity, -Infinity, Number.MAX_VALUE, -Number.MAX_VALUE];
    const res = await post("/api/v1/write", rw([{ name: "odd_values", samples: [...values.map((v, i) => [t + i * 1000, v] as [number, number]), [t + 9000, STALE]] }]), RW, undefined);
    expect(res.status).toBe(204);
    expect(await countSamples()).toBe(before + values.length);
    const stored = await pool().query<{ value: number }>(
      "SELECT vals[s.id % 32 + 1] AS value FROM sample_block b JOIN stream s ON s.metric = 'odd_values' AND b.block = s.id / 32 WHERE vals[s.id % 32 + 1] IS NOT NULL ORDER BY b.ts",
    );
    expect(stored.rows.map((r) => r.value)).toEqual(values);
  });

  it("a staleness marker of a series no stream may have (a NUL in its name and label) ends nothing: 204, not a 500", async () => {
    // found by the ingest fuzz (seed 1): the marker's stream lookup sent the NUL to PostgreSQL
    const before = await dbState();
    const body = snappyCompress(writeRequestBytes([["__name__", "x\u0000y"], ["l", "x\u0000y"]], [[now() - 1_000, STALE]]));
    expect((await post("/api/v1/write", body, RW, undefined)).status).toBe(204);
    expect(await dbState()).toEqual(before);
  });

  it("generates the ingest token once and keeps it", async () => {
    const first = await ensureIngestToken(pool(), undefined);
    const again = await ensureIngestToken(pool(), undefined);
    expect(first.origin).toBe("generated");
    expect(again).toEqual({ token: first.token, origin: "stored" });
    expect(first.token).toMatch(/^omen_[A-Za-z0-9_-]{32}$/);
    expect(await ensureIngestToken(pool(), "from-env-token-0123456789")).toEqual({ token: "from-env-token-0123456789", origin: "env" });
  });

  it("back-pressure: 503 (remote_write) / 429 (OTLP) with Retry-After while the worker lags, nothing stored", async () => {
    const t = now() - 60_000;
    await ingestSeries("lag", "csv", [{ metric: "lag_metric", labels: {}, kind: "gauge", tsMs: Array.from({ length: 1500 }, (_, i) => t + i), values: Array.from({ length: 1500 }, () => 1) }]);
    await heartbeat({ name: "lagging-test-worker", pid: 1, startedAtMs: now(), cursor: 0, info: {} });
    await new Promise((r) => setTimeout(r, 1_200)); // the web process caches the lag for ~1 s
    const before = await dbState();
    const r1 = await post("/api/v1/write", ok(), RW, undefined);
    expect(r1.status).toBe(503);
    expect(Number(r1.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await messageOf(r1)).toMatch(/worker is \d+ samples behind/);
    const r2 = await post("/v1/metrics", otlpJson(1), JS, undefined);
    expect(r2.status).toBe(429);
    expect(r2.headers.get("retry-after")).toBeTruthy();
    expect(await dbState()).toEqual(before);
    await pool().query("DELETE FROM worker_status WHERE name = 'lagging-test-worker'");
    await new Promise((r) => setTimeout(r, 1_200));
    expect((await post("/api/v1/write", ok(), RW, undefined)).status).toBe(204);
  });
});

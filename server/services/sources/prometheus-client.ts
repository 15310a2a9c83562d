/**
 * Minimal client for the Prometheus HTTP API (https://prometheus.io/docs/prometheus/latest/querying/api/):
 * `query_range` for backfill and follow, `query` for the settings page's test button.
 */
import { AppError } from "@/lib/errors/app-error";
import { couldNotReach, outboundFetch } from "../outbound/outbound-fetch";

export interface PromMatrixSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

/** Prometheus refuses range queries over 11,000 points per series. */
export const MAX_POINTS_PER_SERIES = 11_000;

async function call(url: URL, timeoutMs: number): Promise<{ resultType: string; result: unknown[] }> {
  // allow-list, same-host redirects, timeout, one message for every network failure
  const res = await outboundFetch(url, { timeoutMs, headers: { accept: "application/json" } });
  let body: { status?: string; error?: string; errorType?: string; data?: { resultType: string; result: unknown[] } };
  try {
    body = (await res.json()) as typeof body;
  } catch (e) {
    if ((e as Error).name === "TimeoutError" || (e as Error).name === "AbortError") throw couldNotReach(url);
    throw new AppError("UNAVAILABLE", `${url.origin} answered HTTP ${res.status} without a Prometheus API JSON body; is this the Prometheus base URL?`);
  }
  if (body.status !== "success" || !body.data) {
    throw new AppError("BAD_REQUEST", `Prometheus rejected the query (${body.errorType ?? `HTTP ${res.status}`}): ${body.error ?? "unknown error"}`);
  }
  return body.data;
}

export async function queryRange(
  baseUrl: string,
  query: string,
  startMs: number,
  endMs: number,
  stepSeconds: number,
  timeoutMs = 60_000,
): Promise<PromMatrixSeries[]> {
  const url = new URL(`${baseUrl}/api/v1/query_range`);
  url.searchParams.set("query", query);
  url.searchParams.set("start", (startMs / 1000).toFixed(3));
  url.searchParams.set("end", (endMs / 1000).toFixed(3));
  url.searchParams.set("step", `${stepSeconds}s`);
  const data = await call(url, timeoutMs);
  if (data.resultType !== "matrix") throw new AppError("BAD_REQUEST", `query_range returned ${data.resultType}, expected a matrix.`);
  return data.result as PromMatrixSeries[];
}

/** Instant query: how many series the query returns now, with a few label sets as examples. */
export async function testQuery(baseUrl: string, query: string): Promise<{ series: number; examples: Record<string, string>[] }> {
  const url = new URL(`${baseUrl}/api/v1/query`);
  url.searchParams.set("query", query);
  const data = await call(url, 15_000);
  const result = (data.result ?? []) as { metric?: Record<string, string> }[];
  return { series: data.resultType === "scalar" ? 1 : result.length, examples: result.slice(0, 5).map((r) => r.metric ?? {}) };
}

import type { APIRequestContext } from "@playwright/test";
import { hashNoise as noise } from "../lib/scenarios/hash-noise";

export const TOKEN = process.env.OMEN_INGEST_TOKEN ?? "e2e-test-token-0123456789";
const auth = { authorization: `Bearer ${TOKEN}` };

/** Posts gauge points over OTLP/HTTP JSON (what an OpenTelemetry SDK sends). */
export async function postOtlp(
  request: APIRequestContext,
  service: string,
  series: { name: string; attrs: Record<string, string>; points: [number, number][] }[],
): Promise<void> {
  const body = {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: "service.name", value: { stringValue: service } }] },
        scopeMetrics: [
          {
            metrics: series.map((s) => ({
              name: s.name,
              gauge: {
                dataPoints: s.points.map(([t, v]) => ({
                  timeUnixNano: `${t}000000`,
                  asDouble: v,
                  attributes: Object.entries(s.attrs).map(([key, value]) => ({ key, value: { stringValue: value } })),
                })),
              },
            })),
          },
        ],
      },
    ],
  };
  const res = await request.post("/v1/metrics", { headers: { ...auth, "content-type": "application/json" }, data: JSON.stringify(body) });
  if (!res.ok()) throw new Error(`OTLP write failed: ${res.status()} ${await res.text()}`);
}

/** Uploads a CSV through the import endpoint (as the UI and `npm run import:csv` do). */
export async function postCsv(request: APIRequestContext, source: string, csv: string): Promise<unknown> {
  const res = await request.post(`/api/v1/import/csv?source=${encodeURIComponent(source)}`, {
    headers: { ...auth, "content-type": "text/csv" },
    data: csv,
  });
  if (!res.ok()) throw new Error(`CSV import failed: ${res.status()} ${await res.text()}`);
  return res.json();
}

/** A history of `n` points `stepMs` apart ending at `endMs`, level ~base with spikes at the given indices. */
export function history(endMs: number, n: number, stepMs: number, base: number, spikes: number[], salt = 0): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    const spiked = spikes.some((s) => i >= s && i < s + 3);
    out.push([endMs - (n - 1 - i) * stepMs, spiked ? base * 12 : base + 0.05 * base * noise(i, salt)]);
  }
  return out;
}

import fs from "node:fs";
import { expect, test } from "@playwright/test";
import { collectConsoleErrors, horizontalOverflow, shot, shotDark } from "./fixtures";

const TOKEN = process.env.OMEN_INGEST_TOKEN ?? "e2e-test-token-0123456789";

// Signed in as the first admin (e2e/auth.setup.ts): the report names the signed-in author.

/** Deterministic noise in [-1, 1]. */
function noise(i: number, seed: number): number {
  const x = Math.sin(i * 12.9898 + seed * 78.233) * 43758.5453;
  return 2 * (x - Math.floor(x)) - 1;
}

test("anomaly page ranks the group's streams by contribution and exports a post-mortem draft", async ({ page, request }) => {
  const errors = collectConsoleErrors(page);
  // An uploaded table where the database slows down 3 minutes before the API does; a cache
  // metric in the same table stays calm.
  const step = 10_000;
  const n = 720;
  const end = Math.floor((Date.now() - 60_000) / step) * step;
  const incident = 600;
  const bump = (i: number) => (i >= incident && i < incident + 60 ? 1 : 0);
  const rows = ["timestamp,cascade_db_latency_ms,cascade_api_latency_ms,cascade_cache_hit_ratio"];
  for (let i = 0; i < n; i++) {
    const t = new Date(end - (n - 1 - i) * step).toISOString();
    rows.push(`${t},${(20 + 2 * noise(i, 1) + 200 * bump(i)).toFixed(3)},${(100 + 6 * noise(i, 2) + 500 * bump(i - 18)).toFixed(3)},${(0.9 + 0.01 * noise(i, 3)).toFixed(4)}`);
  }
  const imp = await request.post("/api/v1/import/csv?source=e2e-cascade", { headers: { authorization: `Bearer ${TOKEN}`, "content-type": "text/csv" }, data: rows.join("\n") });
  expect(imp.status()).toBe(200);

  // the worker scores the upload and opens anomalies on both latency streams
  let apiAnomaly: { id: string } | undefined;
  await expect(async () => {
    const res = await request.get("/api/v1/anomalies?limit=1000");
    const body = (await res.json()) as { anomalies: { id: string; streamKey: string; startMs: number }[] };
    const incidentMs = end - (n - 1 - incident) * step;
    apiAnomaly = body.anomalies.find((a) => a.streamKey === "cascade_api_latency_ms" && a.startMs >= incidentMs);
    expect(apiAnomaly).toBeDefined();
    expect(body.anomalies.some((a) => a.streamKey === "cascade_db_latency_ms")).toBe(true);
  }).toPass({ timeout: 120_000, intervals: [1000] });

  await page.goto(`/anomalies/${apiAnomaly!.id}`);
  await expect(page.getByRole("heading", { name: "Ranked causes" })).toBeVisible();
  const causes = page.getByTestId("ranked-causes");
  await expect(causes.getByTestId("probable-origin")).toContainText("Probable origin: cascade_db_latency_ms");
  // the database is the first cause other than the anomalous stream itself, marked as origin
  const others = causes.getByTestId("cause-row").filter({ hasNotText: "this anomaly" });
  await expect(others.first()).toContainText("cascade_db_latency_ms");
  await expect(others.first()).toContainText("origin");
  await expect(causes.getByTestId("cause-row").filter({ hasText: "this anomaly" })).toContainText("cascade_api_latency_ms");
  const rankOf = async (name: string) => Number(await causes.getByTestId("cause-row").filter({ hasText: name }).locator("td").first().textContent());
  expect(await rankOf("cascade_db_latency_ms")).toBeLessThanOrEqual(2);
  // only streams of this upload and these hours: the seeded shop streams are not candidates
  await expect(causes).not.toContainText("checkout_latency_ms");
  await expect(causes).not.toContainText("e2e_queue_depth");
  await expect(page.getByTestId("causal-timeline")).toContainText("cascade_db_latency_ms");
  await expect(page.getByTestId("causal-timeline")).not.toContainText("0.00");
  await causes.scrollIntoViewIfNeeded();
  await shot(page, "anomaly-ranked-causes");
  // long stream keys and labels stay inside their columns
  expect(await horizontalOverflow(page)).toBe(0);
  await shotDark(page, "anomaly-ranked-causes");

  // a label and a comment, then the post-mortem draft
  await page.getByRole("group", { name: "Label" }).getByRole("button", { name: "True anomaly" }).click();
  await expect(page.getByTestId("anomaly-label")).toHaveText("True anomaly");
  await page.getByLabel("Comment").fill("DB failover; API latency followed.");
  await page.getByRole("button", { name: "Add comment" }).click();
  await expect(page.getByTestId("comments")).toContainText("DB failover; API latency followed.");
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export post-mortem (.md)" }).click()]);
  expect(download.suggestedFilename()).toMatch(/^postmortem-\d{4}-\d{2}-\d{2}-cascade_api_latency_ms-[0-9a-f]{8}\.md$/);
  const md = fs.readFileSync((await download.path())!, "utf8");
  expect(md).toContain("# Post-mortem (draft): ");
  expect(md).toContain("`cascade_api_latency_ms`");
  expect(md).toContain("- **Probable origin:** `cascade_db_latency_ms`");
  expect(md).toMatch(/\| [12] \| `cascade_db_latency_ms` \*\*origin\*\* \| \d+ % \|/);
  expect(md).toContain("(this anomaly)");
  expect(md).toContain("## Explanation");
  expect(md).toContain("**label:** True anomaly");
  expect(md).toContain("admin labelled it True anomaly");
  expect(md).toContain("admin commented: “DB failover; API latency followed.”");
  expect(md).toMatch(/- \d{4}-\d{2}-\d{2}T[\d:]+Z — Anomaly on `cascade_db_latency_ms` \(\w+\), \d+ min \d+ s before this one/);
  expect(errors()).toEqual([]);
});

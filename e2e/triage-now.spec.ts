import { collectConsoleErrors, expect, shot, test } from "./fixtures";
import { history, postCsv, postOtlp } from "./triage-helpers";

const MIN = 60_000;
const DAY = 86_400_000;

/**
 * The SRE's first look: history imported from a CSV (found anomalies are history, not work),
 * a live stream that spikes now, and the overview putting that spike on top, as an incident.
 */
test("overview = now: a live spike is on top, imported history is marked and not open, cards show sample age", async ({ page, request }) => {
  const errors = collectConsoleErrors(page);
  // 1. Import last month's history with spikes (CSV, 5-minute steps, ending 10 days ago).
  const histEnd = Math.floor((Date.now() - 10 * DAY) / MIN) * MIN;
  const rows = history(histEnd, 600, 5 * MIN, 40, [420, 480, 540]);
  await postCsv(request, "e2e-import", ["timestamp,e2e_history_rps", ...rows.map(([t, v]) => `${new Date(t).toISOString()},${v.toFixed(3)}`)].join("\n"));

  // 2. A live stream (OpenTelemetry): two hours of normal load, then a spike in the last minute.
  const now = Math.floor(Date.now() / 10_000) * 10_000;
  const base = history(now - 70_000, 720, 10_000, 1.2, [], 7);
  await postOtlp(request, "e2e-vm", [{ name: "e2e_live_load", attrs: { host: "web-7" }, points: base }]);
  const spike: [number, number][] = [0, 1, 2, 3, 4, 5].map((k) => [now - 60_000 + k * 10_000, 30 + k]);
  await postOtlp(request, "e2e-vm", [{ name: "e2e_live_load", attrs: { host: "web-7" }, points: spike }]);

  // 3. The overview's first incident is the live spike, within seconds.
  await page.goto("/");
  const band = page.getByTestId("needs-attention");
  await expect(band).toBeVisible();
  await expect(band.getByTestId("attention-incident").first()).toContainText("e2e_live_load", { timeout: 60_000 });
  const top = band.getByTestId("attention-incident").first();
  await expect(top).toContainText("host=web-7");
  await expect(top).toContainText("ongoing");
  await expect(top.getByTestId("attention-age")).toContainText(/last sample \d+ (s|min) ago/);
  // Severity order: no incident below is worse than the one above.
  const sev = await band.getByTestId("attention-incident").evaluateAll((els) => els.map((e) => e.getAttribute("data-severity")));
  const rank = { high: 2, medium: 1, low: 0 } as Record<string, number>;
  for (let i = 1; i < sev.length; i++) expect(rank[sev[i]!]!).toBeLessThanOrEqual(rank[sev[i - 1]!]!);
  // The band sits above every stream card.
  const bandBox = await band.boundingBox();
  const firstCard = await page.getByTestId("stream-card").first().boundingBox();
  expect(bandBox!.y).toBeLessThan(firstCard!.y);

  // 4. The worker finds the imported spikes: listed as historical, not in the band, not open.
  await page.goto("/anomalies?historical=1&q=e2e_history_rps");
  await expect(page.getByTestId("anomaly-row").first()).toBeVisible({ timeout: 90_000 });
  await expect(page.getByTestId("anomaly-row").first().getByTestId("historical-tag")).toBeVisible();
  await shot(page, "triage-history-anomalies");
  await page.goto("/anomalies?historical=0&q=e2e_history_rps");
  await expect(page.getByText(/^0 anomalies$/)).toBeVisible();
  await page.goto("/");
  await expect(page.getByTestId("attention-incident").first()).toBeVisible();
  await expect(page.getByTestId("needs-attention")).not.toContainText("e2e_history_rps");

  // 5. Cards: sample age everywhere; the imported stream is stale, the live one is not.
  const histCard = page.getByRole("link", { name: "Stream e2e_history_rps" });
  await expect(histCard.getByTestId("sample-age")).toHaveText(/^1\d d ago$/);
  await expect(histCard).toHaveAttribute("data-stale", "true");
  const liveCard = page.getByRole("link", { name: /^Stream e2e_live_load/ });
  await expect(liveCard).toHaveAttribute("data-stale", "false");
  for (const age of await page.getByTestId("sample-age").allTextContents()) expect(age).toMatch(/ago$|no samples/);
  await shot(page, "triage-overview-now");

  // 6. The filter takes a label as the card shows it, and as Prometheus writes it.
  for (const q of ["host=web-7", 'host="web-7"']) {
    await page.getByLabel("Filter streams").fill(q);
    await expect(page.getByTestId("stream-card")).toHaveCount(1);
    await expect(page.getByTestId("stream-card")).toContainText("e2e_live_load");
  }
  expect(errors()).toEqual([]);
});

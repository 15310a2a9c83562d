import { expect, test } from "@playwright/test";
import { collectConsoleErrors, shot, shotDark } from "./fixtures";
import { E2E } from "./seed-data";

test("overview groups streams, shows severity and open anomalies, filters and updates live", async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
  // Grouped by source / group.
  await expect(page.getByRole("region", { name: `${E2E.source} / ${E2E.queueGroup}` })).toBeVisible();
  await expect(page.getByRole("region", { name: `${E2E.source} / ${E2E.checkoutGroup}` })).toBeVisible();
  // Open incidents by severity (live ones only: earlier specs may have resolved the seeded high ones).
  const openN = async (sev: string) => Number(await page.getByTestId(`open-${sev}`).locator(".n").textContent());
  await expect.poll(async () => (await openN("high")) + (await openN("medium")) + (await openN("low"))).toBeGreaterThan(0);
  // Search narrows to the checkout stream; its card has value and score sparklines.
  await page.getByLabel("Filter streams").fill("checkout");
  const card = page.getByTestId("stream-card");
  await expect(card).toHaveCount(1);
  await expect(card).toContainText(E2E.checkoutMetric);
  await expect(card.getByRole("img", { name: /recent values/ }).locator("path.recharts-curve")).toBeVisible();
  await expect(card.getByRole("img", { name: /recent anomaly scores/ })).toBeVisible();
  await page.getByLabel("Filter streams").fill("");
  // Severity filter: only streams with open anomalies remain, each with a severity badge.
  await page.getByRole("button", { name: "Only streams with open anomalies" }).click();
  await expect(page.getByRole("button", { name: "Only streams with open anomalies" })).toHaveAttribute("aria-pressed", "true");
  // (the severity badge; a "stale" badge may sit beside it when the seeded data aged during start-up)
  for (const b of await page.getByTestId("stream-card").locator(".badge:not(.stale)").allTextContents()) expect(["low", "medium", "high"]).toContain(b);
  // Live: data refreshes without a reload.
  const stamp = page.getByTestId("last-updated");
  await expect(stamp).toContainText("updated");
  const first = await stamp.textContent();
  await expect.poll(async () => stamp.textContent(), { timeout: 20_000 }).not.toBe(first);
  await shot(page, "overview");
  await shotDark(page, "overview");
  await expect(page.getByTestId("open-high")).toContainText("open high incidents");
  // A KPI deep-links to the list of live open incidents of its severity, as many as it counts.
  let sev = "high";
  for (const s of ["high", "medium", "low"]) if ((await openN(s)) > 0) { sev = s; break; }
  const n = await openN(sev);
  await page.getByTestId(`open-${sev}`).click();
  await expect(page).toHaveURL(new RegExp(`/incidents\\?status=open&severity=${sev}&historical=0`));
  await expect(page.getByTestId("incident-row").first()).toBeVisible();
  if (n <= 50) await expect(page.getByTestId("incident-row")).toHaveCount(n);
  expect(errors()).toEqual([]);
});

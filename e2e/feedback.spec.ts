import { expect, test } from "@playwright/test";
import { collectConsoleErrors, shot } from "./fixtures";
import { E2E } from "./seed-data";

test("the worker finds the injected burst, and a false-positive label is applied to the detectors", async ({ page }) => {
  const errors = collectConsoleErrors(page);
  // The seeded checkout stream has a 60-second burst; the real worker scores it after start-up.
  // (Not the gap anomaly the stream raises later, when the seeded data stops.)
  await page.goto(`/anomalies?q=${E2E.checkoutMetric}&type=point,contextual,collective,trend,seasonal`);
  const row = page.getByTestId("anomaly-row").first();
  await expect(row).toBeVisible({ timeout: 90_000 });
  await expect(row).toContainText(E2E.checkoutKey);
  await row.getByRole("link").click();
  await expect(page.getByTestId("anomaly-title")).toContainText(E2E.checkoutMetric);
  // The explanation is the engine's own (which detectors fired, expected vs actual).
  await expect(page.getByTestId("explanation")).toContainText(/expected .* actual/);
  await expect(page.getByTestId("involved-streams")).toContainText(E2E.checkoutKey);
  await expect(page.getByTestId("value-chart").locator(".recharts-reference-area").first()).toBeAttached();

  await page.getByRole("group", { name: "Label" }).getByRole("button", { name: "False positive" }).click();
  await expect(page.getByTestId("anomaly-label")).toHaveText("False positive");
  // The worker's feedback job (every 5 s) applies the label to the stream's detectors.
  await expect(page.getByTestId("feedback-state")).toContainText("Applied", { timeout: 45_000 });
  await expect(page.getByTestId("comments")).toContainText("labelled False positive");
  await shot(page, "feedback");
  expect(errors()).toEqual([]);
});

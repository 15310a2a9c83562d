import { expect, test } from "@playwright/test";
import { collectConsoleErrors, shot, shotDark } from "./fixtures";
import { E2E } from "./seed-data";

const rows = (page: import("@playwright/test").Page) => page.getByTestId("anomaly-row");

test("triage queue filters, sorts, deep-links and applies bulk actions", async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto(`/anomalies?q=${E2E.queueMetric}`);
  await expect(page.getByRole("heading", { name: "Anomalies" })).toBeVisible();
  await expect(rows(page).first()).toBeVisible();
  expect(await rows(page).count()).toBeGreaterThanOrEqual(E2E.tableRows);

  // Filter by severity: only high rows remain, and the filter is in the URL.
  await page.getByRole("group", { name: "Filter by Severity" }).getByRole("button", { name: "high" }).click();
  await expect(page).toHaveURL(/severity=high/);
  await expect(rows(page)).toHaveCount(E2E.tableRows / 3);
  for (const badge of await rows(page).locator(".badge").allTextContents()) expect(badge).toBe("high");

  // Sort by peak score, descending then ascending (keyboard-operable header buttons).
  const scoreHeader = page.getByRole("columnheader", { name: /Peak score/ });
  await scoreHeader.getByRole("button").click();
  await expect(scoreHeader).toHaveAttribute("aria-sort", "descending");
  const desc = (await rows(page).locator("td.num").allTextContents()).map(Number);
  expect(desc).toEqual([...desc].sort((a, b) => b - a));
  await scoreHeader.getByRole("button").focus();
  await page.keyboard.press("Enter");
  await expect(scoreHeader).toHaveAttribute("aria-sort", "ascending");
  const asc = (await rows(page).locator("td.num").allTextContents()).map(Number);
  expect(asc).toEqual([...asc].sort((a, b) => a - b));
  await shot(page, "anomalies-filtered-sorted");

  // A deep link restores the view.
  await page.goto(`/anomalies?status=acknowledged&q=${E2E.queueMetric}`);
  await expect(page.getByRole("group", { name: "Filter by Status" }).getByRole("button", { name: "acknowledged" })).toHaveAttribute("aria-pressed", "true");
  await expect(rows(page)).toHaveCount(6);

  // Bulk: resolve two open anomalies selected with the keyboard.
  await page.goto(`/anomalies?status=open&q=${E2E.queueMetric}`);
  await expect(rows(page).first()).toBeVisible();
  const before = await rows(page).count();
  for (const i of [0, 1]) {
    await rows(page).nth(i).getByRole("checkbox").focus();
    await page.keyboard.press("Space");
  }
  await expect(page.getByRole("toolbar", { name: "Bulk actions" })).toContainText("2 selected");
  await page.getByRole("button", { name: "Resolve", exact: true }).click();
  await expect(rows(page)).toHaveCount(before - 2);

  // Bulk label: the label shows in the row.
  await rows(page).first().getByRole("checkbox").check();
  await page.getByRole("button", { name: "Label: Expected (maintenance/deploy)" }).click();
  await expect(rows(page).first()).toContainText("Expected (maintenance/deploy)");
  await shot(page, "anomalies");
  await shotDark(page, "anomalies");
  expect(errors()).toEqual([]);
});

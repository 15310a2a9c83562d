import { expect, test } from "@playwright/test";
import { collectConsoleErrors, shot, shotDark } from "./fixtures";
import { E2E } from "./seed-data";

test("detector settings: backtest, save with version, revert; omen.yaml scopes are read-only", async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto("/settings");
  await expect(page.getByRole("heading", { name: "Settings", exact: true })).toBeVisible();
  await expect(page.getByRole("link", { name: /Sources/ })).toHaveAttribute("href", "/settings/sources");
  await expect(page.getByTestId("config-file")).toContainText("is valid");
  await page.getByRole("link", { name: /Detectors and thresholds/ }).click();
  await expect(page.getByRole("heading", { name: "Detectors and thresholds" })).toBeVisible();

  // Pick the checkout stream.
  await page.getByLabel("Scope", { exact: true }).selectOption("stream");
  const streamSelect = page.getByLabel("Stream", { exact: true });
  const value = await streamSelect.locator("option", { hasText: E2E.checkoutKey }).getAttribute("value");
  await streamSelect.selectOption(value!);
  await expect(page.getByTestId("scope-summary")).toContainText("no own settings");

  // Backtest a 2-minute minimum duration (the burst lasted 1 minute) against the current settings.
  await page.getByLabel("Minimum duration (s)").fill("120");
  await page.getByLabel("Backtest range").selectOption("1");
  await page.getByRole("button", { name: "Run backtest" }).click();
  const result = page.getByTestId("backtest-result");
  await expect(result).toBeVisible({ timeout: 20_000 });
  const current = Number(await page.getByTestId("backtest-current").locator(".n").textContent());
  const proposed = Number(await page.getByTestId("backtest-proposed").locator(".n").textContent());
  expect(current).toBeGreaterThanOrEqual(1);
  expect(proposed).toBeLessThan(current);
  await expect(page.getByTestId("backtest-table")).toContainText(E2E.checkoutKey);
  await shot(page, "settings-backtest");

  // Save → version 1 by the signed-in user; another change → version 2; revert → version 3.
  await page.getByLabel("Change note").fill("ignore bursts under 2 minutes");
  await page.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByTestId("scope-summary")).toContainText("version 1 by admin");
  const history = page.getByTestId("config-history");
  await expect(history.getByRole("row").nth(1)).toContainText("minDurationSec: (inherit) → 120");
  await page.getByLabel("Sensitivity").fill("0.5");
  await page.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByTestId("scope-summary")).toContainText("version 2");
  await page.getByRole("button", { name: "Revert to version 1" }).click();
  await expect(page.getByTestId("scope-summary")).toContainText("version 3");
  await expect(history.getByRole("row").nth(1)).toContainText("revert to version 1");
  await expect(page.getByLabel("Sensitivity")).toHaveValue("1");
  await expect(page.getByLabel("Minimum duration (s)")).toHaveValue("120");
  await shot(page, "settings-detectors");
  await shotDark(page, "settings-detectors");

  // Global scope: the band width (the expected range drawn, probed and ranked on) is global only.
  await page.goto("/settings/detectors?scope=global");
  await expect(page.getByLabel("Band width (sigmas)")).toHaveValue("3", { timeout: 30_000 });
  await shot(page, "settings-global");

  // The queues group is managed by omen.yaml: read-only.
  await page.goto(`/settings/detectors?scope=group&ref=${E2E.queueGroup}`);
  await expect(page.getByTestId("read-only")).toBeVisible({ timeout: 30_000 });
  await expect(page.getByRole("button", { name: "Save settings" })).toBeDisabled();
  await expect(page.getByLabel("Sensitivity")).toHaveValue("0.8");
  await expect(page.getByTestId("mute-windows")).toContainText("daily 03:00–03:30");
  await shot(page, "settings-file-managed");
  expect(errors()).toEqual([]);
});

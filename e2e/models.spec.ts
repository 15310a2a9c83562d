import { expect, test } from "@playwright/test";
import { collectConsoleErrors, shot, shotDark } from "./fixtures";

test("take a detector snapshot and roll back to it", async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto("/settings/models");
  await expect(page.getByRole("heading", { name: /snapshots and rollback/ })).toBeVisible();
  await page.getByRole("button", { name: "Take a snapshot now" }).click();
  const manual = page.getByTestId("snapshot-row").filter({ hasText: "taken by hand" }).first();
  await expect(manual).toBeVisible({ timeout: 30_000 });
  const id = (await manual.locator("td").first().innerText()).trim();

  await manual.getByRole("button", { name: `Roll back to snapshot ${id}` }).click();
  await page.getByRole("button", { name: `Confirm rollback to #${id}` }).click();
  // The worker saves the current state first, then the restored one.
  await expect(page.getByTestId("snapshot-row").filter({ hasText: "after a rollback" }).first()).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId("snapshot-row").filter({ hasText: "before a rollback" }).first()).toBeVisible();
  await expect(page.getByTestId("pending-request")).toHaveCount(0);
  await expect(page.getByTestId("rollback-done")).toContainText(`Rolled back to snapshot #${id}`);
  await shot(page, "models");
  await shotDark(page, "models");
  expect(errors()).toEqual([]);
});

import { collectConsoleErrors, expect, shot, test } from "./fixtures";

test.use({ extraHTTPHeaders: { "x-omen-user": "e2e-sre" } });

/**
 * Numeric settings keep what was typed: `-3` stays "-3" and is refused in words (it used to show
 * "03" and save 3), `.5` saves 0.5, a cleared field is "required" (not 0). Uses the scope of a
 * source with no streams so the other specs' detection is unchanged.
 */
test("numeric settings keep what is typed and explain invalid values in words", async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto("/settings/detectors");
  await page.getByLabel("Scope", { exact: true }).selectOption("source");
  const src = page.getByLabel("Source", { exact: true });
  const value = await src.locator("option", { hasText: "e2e-yaml-prometheus" }).getAttribute("value");
  await src.selectOption(value!);
  const sens = page.getByLabel("Sensitivity");
  const save = page.getByRole("button", { name: "Save settings" });
  await expect(sens).toHaveValue("1");

  await sens.fill("");
  await sens.pressSequentially("-3");
  await expect(sens).toHaveValue("-3");
  await expect(page.getByRole("alert").filter({ hasText: "Sensitivity" })).toHaveText("Sensitivity must be between 0.1 and 5; -3 is too low.");
  await expect(sens).toHaveAttribute("aria-invalid", "true");
  await expect(save).toBeDisabled();
  await expect(page.getByRole("button", { name: "Run backtest" })).toBeDisabled();
  await shot(page, "forms-invalid-number");

  await sens.fill("");
  await expect(sens).toHaveValue("");
  await expect(page.getByRole("alert").filter({ hasText: "Sensitivity" })).toHaveText("Sensitivity is required.");
  await expect(save).toBeDisabled();

  await sens.pressSequentially(".5");
  await expect(sens).toHaveValue(".5");
  await expect(sens).not.toHaveAttribute("aria-invalid", "true");
  await expect(page.getByTestId("proposed-overrides")).toContainText("sensitivity 0.5");
  const days = page.getByLabel("Training window (days)");
  await days.fill("2.5");
  await expect(page.getByRole("alert").filter({ hasText: "Training window" })).toHaveText("Training window (days) must be a whole number; 2.5 is not.");
  await days.fill("14");
  await expect(save).toBeEnabled();
  await save.click();
  await expect(page.getByTestId("scope-summary")).toContainText("version 1");
  await page.reload();
  await expect(page.getByLabel("Sensitivity")).toHaveValue("0.5");
  await expect(page.getByLabel("Training window (days)")).toHaveValue("14");

  // Whatever reaches the server invalid comes back as words, not zod's JSON.
  const res = await page.request.post("/api/trpc/config.save", {
    data: { json: { target: { scope: "source", ref: value }, settings: { sensitivity: -3 } } },
  });
  expect(res.status()).toBe(400);
  const body = (await res.json()) as { error: { json: { message: string } } };
  expect(body.error.json.message).toMatch(/^Sensitivity: too small: expected number to be >=/);
  expect(body.error.json.message).not.toContain("{");
  expect(errors()).toEqual([]);
});

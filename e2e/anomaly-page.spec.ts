import { expect, test } from "@playwright/test";
import { collectConsoleErrors, horizontalOverflow, shot, shotDark } from "./fixtures";
import { E2E } from "./seed-data";

test("anomaly page shows timeline, streams, explanation, similar anomalies, and takes labels and comments", async ({ page }) => {
  const errors = collectConsoleErrors(page);
  // The seeded multi-stream incident (three queues) is the oldest open one with a causal timeline.
  await page.goto(`/anomalies?q=${E2E.queueMetric}&type=point&sort=start&dir=asc`);
  const row = page.getByTestId("anomaly-row").filter({ hasText: "+2" }).last();
  await row.getByRole("link").click();
  await expect(page).toHaveURL(/\/anomalies\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("anomaly-title")).toContainText("point anomaly on e2e_queue_depth");
  await expect(page.getByTestId("explanation")).toContainText("robust-z");
  await expect(page.getByRole("heading", { name: "Causal timeline" })).toBeVisible();
  // The causal timeline is computed by the explain service (either a timeline or its "no other stream" note).
  await expect(page.getByTestId("causal-timeline").or(page.getByText("No other stream of this group had an anomaly"))).toBeVisible();
  await expect(page.getByTestId("ranked-causes")).toBeVisible();
  await expect(page.getByTestId("involved-streams").getByRole("link")).toHaveCount(3);
  await expect(page.getByTestId("value-chart").locator("svg path.recharts-curve").first()).toBeVisible();
  await expect(page.getByTestId("score-chart")).toBeVisible();
  // Similar past anomalies with how they were labelled.
  const similar = page.getByTestId("similar-table");
  await expect(similar.getByRole("row").nth(1)).toBeVisible();
  await expect(similar).toContainText(/False positive|True anomaly|unlabelled/);

  // Label, status and a comment.
  await page.getByRole("group", { name: "Label" }).getByRole("button", { name: "True anomaly" }).click();
  await expect(page.getByTestId("anomaly-label")).toHaveText("True anomaly");
  await page.getByRole("group", { name: "Status" }).getByRole("button", { name: "Acknowledge" }).click();
  await expect(page.getByTestId("anomaly-status")).toHaveText("acknowledged");
  await page.getByLabel("Comment").fill("Consumer restarted at 03:10; watching.");
  await page.getByRole("button", { name: "Add comment" }).click();
  await expect(page.getByTestId("comments")).toContainText("Consumer restarted at 03:10; watching.");
  await expect(page.getByTestId("comments")).toContainText("admin");
  await shot(page, "anomaly-page");
  // long stream keys and labels stay inside their columns
  expect(await horizontalOverflow(page)).toBe(0);
  await shotDark(page, "anomaly-page");
  expect(errors()).toEqual([]);
});

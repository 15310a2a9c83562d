import { collectConsoleErrors, expect, shot, test } from "./fixtures";
import { E2E } from "./seed-data";

test.use({ extraHTTPHeaders: { "x-omen-user": "e2e-sre" } });

const rows = (page: import("@playwright/test").Page) => page.getByTestId("anomaly-row");

test("bulk actions reach every matching anomaly; a false positive offers to label all similar, with a count first", async ({ page }) => {
  const errors = collectConsoleErrors(page);
  // 64 rows on one stream: more than the 50 on a page.
  await page.goto(`/anomalies?q=${E2E.bulkMetric}&type=point&historical=1`);
  await expect(rows(page)).toHaveCount(50);
  await expect(page.getByRole("toolbar", { name: "Bulk actions" })).toContainText(`${E2E.bulkRows} anomalies`);
  await page.getByLabel("Select all anomalies on this page").check();
  await page.getByTestId("select-all-matching").click();
  await expect(page.getByRole("toolbar", { name: "Bulk actions" })).toContainText(`all ${E2E.bulkRows} matching selected`);
  await page.getByRole("toolbar", { name: "Bulk actions" }).getByRole("button", { name: "Acknowledge", exact: true }).click();
  await expect(page.getByTestId("bulk-done")).toHaveText(`${E2E.bulkRows} updated`);
  await page.goto(`/anomalies?q=${E2E.bulkMetric}&type=point&historical=1&status=acknowledged`);
  await expect(page.getByRole("toolbar", { name: "Bulk actions" })).toContainText(`${E2E.bulkRows} anomalies`);

  // Found in history (seen days after the data): tagged so, not counted as open.
  await expect(rows(page).first().getByTestId("historical-tag")).toBeVisible();

  // Open one and call it a false positive: it is resolved, and the 63 like it are offered.
  await rows(page).first().getByRole("link").click();
  await expect(page.getByTestId("anomaly-title")).toContainText(E2E.bulkMetric);
  // The summary names the stream, not its id.
  await expect(page.getByTestId("explanation")).toContainText(`on ${E2E.bulkMetric}`);
  await page.getByRole("group", { name: "Label" }).getByRole("button", { name: "False positive" }).click();
  await expect(page.getByTestId("anomaly-label")).toHaveText("False positive");
  const offer = page.getByTestId("label-similar");
  await expect(offer).toContainText(`${E2E.bulkRows - 1} other unlabelled point anomalies`);
  await shot(page, "triage-label-similar");
  await offer.getByRole("button", { name: `Label all ${E2E.bulkRows - 1} similar` }).click();
  await expect(page.getByTestId("label-similar-done")).toContainText(`Labelled ${E2E.bulkRows - 1} similar anomalies as false positive`);
  await page.goto(`/anomalies?q=${E2E.bulkMetric}&type=point&historical=1&label=false_positive&status=resolved`);
  await expect(page.getByRole("toolbar", { name: "Bulk actions" })).toContainText(`${E2E.bulkRows} anomalies`);
  await shot(page, "triage-bulk-labelled");
  expect(errors()).toEqual([]);
});

test("a false positive on an incident offers to label the similar anomalies of its streams, with a count first", async ({ page }) => {
  const errors = collectConsoleErrors(page);
  const others = (E2E.similarIncidents - 1) * E2E.similarFans.length;
  // The fan dip recurs: each time one incident over both fans.
  await page.goto(`/incidents?q=${E2E.similarMetric}&historical=1`);
  const incidents = page.getByTestId("incident-row");
  await expect(incidents).toHaveCount(E2E.similarIncidents);
  await incidents.first().getByTestId("incident-link").click();
  await expect(page.getByTestId("incident-title")).toContainText("fans");
  await expect(page.getByTestId("incident-anomaly-row")).toHaveCount(E2E.similarFans.length);
  // No offer before a false positive.
  await expect(page.getByTestId("label-similar")).toHaveCount(0);
  await page.getByRole("group", { name: "Label" }).getByRole("button", { name: "False positive" }).click();
  await expect(page.getByTestId("incident-label")).toHaveText("False positive");
  const offer = page.getByTestId("label-similar");
  await expect(offer).toContainText(`${others} other unlabelled anomalies on this incident's 2 streams with the same type, outside this incident`);
  await shot(page, "triage-incident-label-similar");
  await offer.getByRole("button", { name: `Label all ${others} similar` }).click();
  await expect(page.getByTestId("label-similar-done")).toContainText(`Labelled ${others} similar anomalies as false positive`);
  // Every fan dip is now a false positive (and resolved), in the queue and as incidents.
  await page.goto(`/anomalies?q=${E2E.similarMetric}&historical=1&label=false_positive&status=resolved`);
  await expect(page.getByRole("toolbar", { name: "Bulk actions" })).toContainText(`${others + E2E.similarFans.length} anomalies`);
  await page.goto(`/incidents?q=${E2E.similarMetric}&historical=1&status=resolved`);
  await expect(incidents).toHaveCount(E2E.similarIncidents);
  expect(errors()).toEqual([]);
});

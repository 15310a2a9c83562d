import { collectConsoleErrors, expect, shot, test } from "./fixtures";
import { history, postOtlp } from "./triage-helpers";

/**
 * An event on two streams of one service is one incident: the SRE finds it on top of the
 * overview, opens it, sees both streams and the timeline, labels it and acknowledges it once
 * (its anomalies follow), and finds it so in the incidents list.
 */
test("incidents: open the live incident, see its streams and timeline, label and acknowledge it", async ({ page, request }) => {
  const errors = collectConsoleErrors(page);
  // Two hours of normal load on two streams of host db-3, then both spike in the last minute.
  const now = Math.floor(Date.now() / 10_000) * 10_000;
  const series = (name: string, base: number, salt: number) => ({ name, attrs: { host: "db-3" }, points: history(now - 70_000, 720, 10_000, base, [], salt) });
  await postOtlp(request, "e2e-inc", [series("e2e_inc_cpu", 20, 11), series("e2e_inc_load", 2, 12)]);
  const spike = (name: string, level: number) => ({
    name,
    attrs: { host: "db-3" },
    points: [0, 1, 2, 3, 4, 5].map((k): [number, number] => [now - 60_000 + k * 10_000, level + k]),
  });
  await postOtlp(request, "e2e-inc", [spike("e2e_inc_cpu", 95), spike("e2e_inc_load", 40)]);

  // 1. The band shows it as one incident; open it.
  await page.goto("/");
  const card = page.getByTestId("attention-incident").filter({ hasText: "e2e-inc" });
  await expect(card).toHaveCount(1, { timeout: 60_000 });
  await card.getByTestId("attention-link").click();
  await expect(page).toHaveURL(/\/incidents\/\d+$/);
  const incidentId = Number(page.url().split("/").pop());
  await expect(page.getByTestId("incident-title")).toContainText(`Incident #${incidentId} on otlp / e2e-inc`);

  // 2. Both streams and their anomalies are in it (the second may be written a round later).
  const streams = page.getByTestId("incident-streams");
  await expect(streams).toContainText('e2e_inc_cpu{host="db-3",job="e2e-inc"}', { timeout: 60_000 });
  await expect(streams).toContainText('e2e_inc_load{host="db-3",job="e2e-inc"}', { timeout: 60_000 });
  const rows = page.getByTestId("incident-anomaly-row");
  expect(await rows.count()).toBeGreaterThanOrEqual(2);
  await expect(page.getByTestId("incident-timeline").locator(".timeline-bar")).toHaveCount(await rows.count());
  await expect(page.getByTestId("incident-status")).toHaveText("open");
  await shot(page, "incident-open");

  // 3. Label the incident: every anomaly in it gets the label (and teaches the detectors).
  await page.getByRole("group", { name: "Label" }).getByRole("button", { name: "True anomaly" }).click();
  await expect(page.getByTestId("label-done")).toContainText(/Labelled \d+ anomal/);
  await expect(page.getByTestId("incident-label")).toHaveText("True anomaly");
  for (const label of await rows.locator("td:last-child").allTextContents()) expect(label).toBe("True anomaly");

  // 4. One status: acknowledge once.
  await page.getByRole("group", { name: "Status" }).getByRole("button", { name: "Acknowledge" }).click();
  await expect(page.getByTestId("incident-status")).toHaveText("acknowledged");
  await shot(page, "incident-labelled");

  // 5. An anomaly of it says where it belongs.
  await rows.first().getByRole("link").click();
  await expect(page.getByTestId("anomaly-incident")).toHaveText(`incident #${incidentId}`);
  await expect(page.getByTestId("anomaly-status")).toHaveText("acknowledged");
  await expect(page.getByTestId("anomaly-label")).toHaveText("True anomaly");

  // 6. The incidents list: found by a label as the card shows it, with its one status and label.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Incidents" }).click();
  await page.getByLabel("Search incidents").fill("host=db-3");
  await page.getByLabel("Search incidents").press("Enter");
  await expect(page).toHaveURL(/q=host%3Ddb-3/);
  const row = page.getByTestId("incident-row").filter({ hasText: `#${incidentId} otlp / e2e-inc` });
  await expect(row).toHaveCount(1);
  await expect(row.getByTestId("incident-status")).toHaveText("acknowledged");
  await expect(row).toContainText("True anomaly");
  await expect(row).toContainText("e2e_inc_cpu");
  await shot(page, "incidents-list");
  expect(errors()).toEqual([]);
});

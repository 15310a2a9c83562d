import type { Page } from "@playwright/test";
import { collectConsoleErrors, expect, shot, test } from "./fixtures";
import { history, postCsv } from "./triage-helpers";

/** The value chart's time-axis labels (the value axis has numbers only). */
const xLabels = async (page: Page) =>
  (await page.getByTestId("value-chart").locator(".recharts-cartesian-axis-tick-value").allTextContents()).filter((t) => /[A-Z][a-z]{2} \d|\d\d:\d\d/.test(t));

test("stream page investigates history: data's last day by default, range in the URL, absolute ranges, drag to zoom, dates never repeated", async ({ page, request }) => {
  const errors = collectConsoleErrors(page);
  // An import from 2014: three days of a load average, 10-minute steps, with one burst.
  const end = Date.UTC(2014, 2, 14, 18, 0);
  const rows = history(end, 432, 10 * 60_000, 0.6, [400], 3);
  await postCsv(request, "e2e-2014", ["timestamp,e2e_load_2014", ...rows.map(([t, v]) => `${new Date(t).toISOString()},${v.toFixed(3)}`)].join("\n"));

  await page.goto("/?");
  await page.getByLabel("Filter streams").fill("e2e_load_2014");
  await page.getByRole("link", { name: /^Stream e2e_load_2014/ }).click();
  await expect(page.getByTestId("stream-title")).toHaveText("e2e_load_2014");
  // Opens on the data's last day (in 2014), with data drawn.
  await expect(page.getByTestId("stream-window")).toContainText("2014");
  await expect(page.getByTestId("stream-window")).toContainText("stream stopped");
  await expect(page.getByText("No samples in this range.")).toHaveCount(0);
  await expect(page.getByTestId("value-chart").locator("path.recharts-curve").first()).toBeVisible();
  let labels = await xLabels(page);
  expect(labels.length).toBeGreaterThan(2);
  expect(new Set(labels).size).toBe(labels.length);
  await shot(page, "triage-stream-2014");

  // 7 days: in the URL, each date once on the axis.
  await page.getByRole("group", { name: "Time range" }).getByRole("button", { name: "7d" }).click();
  await expect(page).toHaveURL(/range=7d/);
  // A stopped stream's presets end at its last sample: 7 days back reaches Mar 8.
  await expect.poll(async () => xLabels(page)).toContain("Mar 8");
  labels = await xLabels(page);
  expect(new Set(labels).size).toBe(labels.length);
  await shot(page, "triage-stream-7d");

  // Drag across the chart to zoom: the URL gets an absolute range, and it survives a reload.
  const box = (await page.getByTestId("value-chart").boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.45, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 8 });
  await page.mouse.move(box.x + box.width * 0.75, box.y + box.height / 2, { steps: 8 });
  await page.mouse.up();
  await expect(page).toHaveURL(/from=\d+&to=\d+/);
  const url = new URL(page.url());
  const from = Number(url.searchParams.get("from"));
  const to = Number(url.searchParams.get("to"));
  expect(to - from).toBeLessThan(7 * 86_400_000 * 0.5);
  expect(to - from).toBeGreaterThan(0);
  await page.reload();
  await expect(page.getByRole("button", { name: "Back to the last day" })).toBeVisible();
  await expect(page.getByTestId("value-chart").locator("path.recharts-curve").first()).toBeVisible();

  // Absolute range typed in: the first day of the import.
  await page.getByLabel("Range start").fill("2014-03-11T18:00");
  await page.getByLabel("Range end").fill("2014-03-12T18:00");
  await page.getByRole("button", { name: "Show", exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`from=${new Date("2014-03-11T18:00").getTime()}&to=${new Date("2014-03-12T18:00").getTime()}`));
  await expect(page.getByTestId("value-chart").locator("path.recharts-curve").first()).toBeVisible();
  // The tooltip names the series in words.
  const chart = (await page.getByTestId("value-chart").boundingBox())!;
  await page.mouse.move(chart.x + chart.width * 0.5, chart.y + chart.height / 2);
  await expect(page.locator(".recharts-tooltip-wrapper")).toContainText("value");
  await shot(page, "triage-stream-absolute");
  expect(errors()).toEqual([]);
});

import { expect, test } from "./fixtures";
import { collectConsoleErrors, shot } from "./fixtures";

/**
 * An SRE imports a day of 2014 history with a ground-truth column, backtests a stricter setting on
 * it (the replay runs on the samples' own times, in 2014, beside what the worker raised and the
 * labelled ranges), then archives, restores and deletes the stream. A viewer sees none of the
 * buttons. Runs signed in as the first admin (auth.setup.ts).
 */
const TOKEN = process.env.OMEN_INGEST_TOKEN ?? "e2e-test-token-0123456789";
const VIEWER = { username: "e2e-bt-viewer", password: "viewer-password-456" };
const METRIC = "bt_orders_per_min";
const minute = 60_000;
const t0 = Date.UTC(2014, 6, 1, 0, 0, 0);
const n = 2 * 1440;
const spikes = [1500, 2300];

function csv(): string {
  const lines = ["timestamp,value,is_anomaly"];
  for (let i = 0; i < n; i++) {
    const spike = spikes.some((s) => i >= s && i < s + 5);
    const v = spike ? 420 : 100 + 12 * Math.sin((2 * Math.PI * i) / 1440) + ((i * 7919) % 13) - 6;
    lines.push(`${new Date(t0 + i * minute).toISOString()},${v.toFixed(2)},${spike ? 1 : 0}`);
  }
  return `${lines.join("\n")}\n`;
}

test("backtest of imported 2014 history runs on its own timestamps, beside the worker's anomalies and the ground truth", async ({ page }) => {
  const errors = collectConsoleErrors(page);
  const res = await page.request.post(`/api/v1/import/csv?source=bt-history&metric=${METRIC}`, {
    headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "text/csv" },
    data: csv(),
  });
  expect(res.status(), await res.text()).toBe(200);
  const body = (await res.json()) as { labelledRanges: number; groundTruth: { column: string; ranges: number }[] };
  expect(body.groundTruth).toEqual([{ column: "is_anomaly", marked: 10, ranges: 2 }]);
  expect(body.labelledRanges).toBe(2);

  await page.goto("/settings/detectors");
  await page.getByLabel("Scope", { exact: true }).selectOption("stream");
  const streamSelect = page.getByLabel("Stream", { exact: true });
  const value = await streamSelect.locator("option", { hasText: METRIC }).getAttribute("value");
  await streamSelect.selectOption(value!);
  await page.getByLabel("Sensitivity").fill("0.5");
  const result = page.getByTestId("backtest-result");
  // the worker scores the import in the background: run until its anomalies are there
  await expect(async () => {
    await page.getByRole("button", { name: "Run backtest" }).click();
    await expect(page.getByTestId("backtest-live")).not.toContainText(/^raised by the worker0/, { timeout: 5_000 });
    await expect(result.getByText(`${n.toLocaleString("en-US")} stored samples`, { exact: false })).toBeVisible({ timeout: 5_000 });
  }).toPass({ timeout: 120_000 });
  // all stored history by default: the range is in 2014, not the last 7 days before today
  await expect(page.getByTestId("backtest-range")).toContainText("2014");
  await expect(page.getByTestId("backtest-range")).toContainText("2 ground-truth range(s)");
  // current settings replay = what the worker raised (same engine path)
  const live = await page.getByTestId("backtest-live").locator(".n").textContent();
  await expect(page.getByTestId("backtest-current").locator(".n")).toHaveText(live!);
  await expect(page.getByTestId("backtest-current-truth")).toContainText("recall 100%");
  await expect(page.getByTestId("backtest-proposed-truth")).toContainText(/precision \d+%/);
  // events start on the samples' own minutes: no resampled grid (no hh:mm:05 starts)
  const starts = await page.getByTestId("backtest-table").locator("tbody tr td:first-child").allTextContents();
  expect(starts.length).toBeGreaterThan(0);
  for (const s of starts) {
    expect(s).toContain("2014");
    expect(s).toMatch(/:00(\s?[AP]M)?$/);
  }
  await expect(page.getByTestId("backtest-table").getByRole("cell", { name: "labelled" }).first()).toBeVisible();
  await page.getByTestId("backtest-result").scrollIntoViewIfNeeded();
  await shot(page, "backtest-2014-import");
  expect(errors()).toEqual([]);
});

test("the labelled ranges show on the stream; archive hides it from the overview, restore brings it back, delete removes it", async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto("/");
  const api = await page.request.get(`/api/v1/streams?search=${METRIC}`);
  const streams = (await api.json()) as { streams?: { id: number }[] } | { id: number }[];
  const list = Array.isArray(streams) ? streams : (streams.streams ?? []);
  expect(list.length).toBe(1);
  const id = list[0]!.id;

  await page.goto(`/streams/${id}`);
  await expect(page.getByTestId("stream-labelled")).toContainText("2 labelled anomalies (ground truth from csv:is_anomaly)");
  await page.getByRole("button", { name: "Archive stream" }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toContainText("leaves the overview and stops raising anomalies");
  await shot(page, "stream-archive-confirm");
  await dialog.getByRole("button", { name: "Archive stream" }).click();
  await expect(page.getByTestId("stream-archived")).toContainText("Archived");
  await shot(page, "stream-archived");
  await page.goto("/");
  await expect(page.getByText("Streams", { exact: false }).first()).toBeVisible();
  await expect(page.locator(`a[href="/streams/${id}"]`)).toHaveCount(0);

  // "Show archived" on the overview lists it; restored from there, it is back on the overview.
  await page.getByTestId("show-archived").click();
  await expect(page).toHaveURL(/\/archived$/);
  const row = page.getByTestId("archived-stream").filter({ hasText: METRIC });
  await expect(row).toHaveCount(1);
  await shot(page, "archived-list");
  await row.getByRole("button", { name: /^Restore stream/ }).click();
  await expect(row).toHaveCount(0);
  await page.goto("/");
  await expect(page.locator(`a[href="/streams/${id}"]`).first()).toBeVisible();
  await page.goto(`/streams/${id}`);
  await expect(page.getByTestId("stream-archived")).toHaveCount(0);

  // a gauge that is really a counter: corrected here, it is scored by its rate from now on
  await expect(page.getByText("kind gauge")).toBeVisible();
  await page.getByLabel("Stream kind").selectOption("counter");
  await expect(page.getByRole("dialog")).toContainText("its rate per second is scored");
  await shot(page, "stream-kind-confirm");
  await page.getByRole("dialog").getByRole("button", { name: "Score as a counter" }).click();
  await expect(page.getByText("kind counter")).toBeVisible();
  await expect(page.getByLabel("Stream kind")).toHaveValue("counter");

  await page.getByRole("button", { name: "Delete stream" }).click();
  await expect(page.getByRole("dialog")).toContainText("cannot be undone");
  await shot(page, "stream-delete-confirm");
  await page.getByRole("dialog").getByRole("button", { name: "Delete stream and its data" }).click();
  await expect(page).toHaveURL(/\/\?deleted=/);
  await page.goto(`/streams/${id}`);
  await expect(page.getByText(`Stream ${id} does not exist`)).toBeVisible();
  expect(errors().filter((e) => !/404|NOT_FOUND|does not exist/.test(e))).toEqual([]);
});

test("a viewer sees no archive or delete buttons", async ({ page, browser, baseURL }) => {
  await page.goto("/settings/users");
  await page.getByLabel("New user name").fill(VIEWER.username);
  await page.getByLabel("New user password").fill(VIEWER.password);
  await page.getByLabel("New user role").selectOption("viewer");
  await page.getByRole("button", { name: "Add user" }).click();
  await expect(page.getByRole("row").filter({ hasText: VIEWER.username })).toBeVisible();
  const streams = await page.request.get(`/api/v1/streams`);
  const body = (await streams.json()) as { streams?: { id: number }[] } | { id: number }[];
  const id = (Array.isArray(body) ? body : (body.streams ?? []))[0]!.id;

  const context = await browser.newContext({ baseURL, storageState: { cookies: [], origins: [] } });
  const viewer = await context.newPage();
  await viewer.goto(`/streams/${id}`);
  await viewer.getByLabel("User name").fill(VIEWER.username);
  await viewer.getByLabel("Password").fill(VIEWER.password);
  await viewer.getByRole("button", { name: "Sign in" }).click();
  await expect(viewer.getByTestId("stream-title")).toBeVisible();
  await expect(viewer.getByTestId("signed-in-user")).toContainText("(viewer)");
  await expect(viewer.getByRole("button", { name: /Archive|Delete|Restore/ })).toHaveCount(0);
  await expect(viewer.getByLabel("Stream kind")).toHaveCount(0);
  await viewer.goto("/settings/sources");
  await expect(viewer.getByRole("heading", { name: "Sources", exact: true })).toBeVisible();
  await expect(viewer.getByRole("button", { name: /^(Archive|Delete) source/ })).toHaveCount(0);
  await shot(viewer, "stream-viewer-no-actions");
  await context.close();
});

import { expect, test } from "@playwright/test";
import { collectConsoleErrors, shot } from "./fixtures";

const TOKEN = process.env.OMEN_INGEST_TOKEN ?? "e2e-test-token-0123456789";

test("Settings → Sources shows snippets without the token, lists sources and imports a CSV upload", async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto("/settings/sources");
  await expect(page.getByRole("heading", { name: "Sources", exact: true })).toBeVisible();
  // the ingest token is never handed out again: snippets say <token> and point at API tokens
  await expect(page.getByTestId("ingest-token-hint")).toContainText("ingest scope");
  await expect(page.getByTestId("ingest-token-hint").getByRole("link", { name: "Settings → API tokens" })).toHaveAttribute("href", "/settings/tokens");
  await expect(page.locator("body")).not.toContainText(TOKEN);
  await expect(page.getByText(/credentials: <token>/)).toBeVisible();
  await expect(page.getByText(/url: http:\/\/127\.0\.0\.1:\d+\/api\/v1\/write/)).toBeVisible();
  await expect(page.getByText(/OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=http:\/\/127\.0\.0\.1:\d+\/v1\/metrics/)).toBeVisible();
  // the host collector is a source with streams
  await expect(page.getByRole("cell", { name: /^host:/ })).toBeVisible({ timeout: 60_000 });

  await page.getByLabel("CSV file").setInputFiles({
    name: "wide.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(`timestamp,e2e_csv_a,e2e_csv_b\n${Date.now() - 20_000},1,2\n${Date.now() - 10_000},3,\n`),
  });
  await page.getByRole("button", { name: "Check file" }).click();
  await expect(page.getByTestId("csv-preview")).toContainText("2 rows (wide layout) will create or extend 2 streams");
  await page.getByRole("button", { name: "Import 2 streams" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Imported 2 rows (wide layout): 3 new samples in 2 streams." })).toBeVisible();

  // Two files headed `timestamp,value` stay two streams (named after their files); a ground-truth
  // column is not a metric. The preview says so before anything is stored.
  for (const [name, base] of [["web-a latency.csv", 92], ["web-b latency.csv", 16]] as const) {
    const t = Date.now();
    await page.getByLabel("CSV file").setInputFiles({
      name,
      mimeType: "text/csv",
      buffer: Buffer.from(`timestamp,value,is_anomaly\n${t - 30_000},${base},0\n${t - 20_000},${base + 1},1\n${t - 10_000},${base},0\n`),
    });
    await page.getByRole("button", { name: "Check file" }).click();
    const preview = page.getByTestId("csv-preview");
    const metric = name === "web-a latency.csv" ? "web_a_latency" : "web_b_latency";
    await expect(preview).toContainText(`${metric} · 3 samples`);
    await expect(preview).toContainText("will create or extend 1 stream");
    await expect(preview).toContainText("Column is_anomaly is ground truth, not a metric: its 1 marked rows (1 range)");
    if (name === "web-a latency.csv") await shot(page, "sources-csv-preview");
    await page.getByRole("button", { name: "Import 1 stream" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Imported 3 rows (wide layout): 3 new samples in 1 streams." })).toBeVisible();
  }
  await expect(page.getByRole("cell", { name: "csv", exact: true }).first()).toBeVisible(); // name and kind

  await page.getByLabel("CSV file").setInputFiles({ name: "bad.csv", mimeType: "text/csv", buffer: Buffer.from("timestamp,a\nnoon,1\n") });
  await page.getByRole("button", { name: "Check file" }).click();
  await expect(page.getByRole("alert").filter({ hasText: 'CSV line 2: timestamp "noon"' })).toBeVisible();
  // the check refuses what the import would (it listed a stream whose label PostgreSQL text cannot hold)
  await page.getByLabel("CSV file").setInputFiles({ name: "nul.csv", mimeType: "text/csv", buffer: Buffer.from(`timestamp,"e2e_nul{a=""x\\u0000""}"\n${Math.floor(Date.now() / 1000) - 10},1\n`) });
  await page.getByRole("button", { name: "Check file" }).click();
  await expect(page.getByRole("alert").filter({ hasText: 'Series e2e_nul: the value of label "a" holds a NUL character' })).toBeVisible();
  await expect(page.getByTestId("csv-preview")).toHaveCount(0);

  // Imports say how recent their data is (not "receiving" forever); live push sources say when they last sent.
  await expect(page.getByTestId("source-status").filter({ hasText: /^imported · data up to/ }).first()).toBeVisible();
  await expect(page.getByTestId("source-status").filter({ hasText: /^receiving · last sample \d+ s ago/ }).first()).toBeVisible();
  // Delete a source with its streams (two steps).
  await page.getByRole("button", { name: "Delete source csv", exact: true }).click();
  await page.getByRole("button", { name: "Delete csv and its 4 streams" }).click();
  await expect(page.getByRole("button", { name: "Delete source csv", exact: true })).toHaveCount(0);

  // a pull source declared in omen.yaml (the worker syncs the file every 10 s) is marked as such
  await expect(page.getByRole("row").filter({ hasText: "e2e-yaml-prometheus" }).getByText("omen.yaml")).toBeVisible({ timeout: 30_000 });

  // the Prometheus pull form validates the URL before saving
  await page.getByLabel("Prometheus base URL").fill("not a url");
  await page.getByRole("button", { name: "Save source" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "enter the Prometheus base URL" })).toBeVisible();
  await shot(page, "settings-sources");
  // the 400s above are intended (bad CSV, NUL label, invalid URL); nothing else may fail
  expect(errors().filter((e) => !/Failed to load resource|HTTP 400 .*(import\/csv|sources\.savePrometheus)/.test(e))).toEqual([]);
});

test("a CSV upload whose connection drops says so plainly, and sending the same file again is safe", async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto("/settings/sources");
  const t = Date.now();
  await page.getByLabel("CSV file").setInputFiles({
    name: "dropped.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(`timestamp,e2e_drop_a,e2e_drop_b\n${t - 30_000},1,2\n${t - 20_000},3,4\n${t - 10_000},5,6\n`),
  });
  await page.getByRole("button", { name: "Check file" }).click();
  await expect(page.getByTestId("csv-preview")).toContainText("3 rows (wide layout) will create or extend 2 streams");

  // the import reaches Omen and is stored, but the connection drops before the answer arrives
  let dropped = 0;
  const importRequest = /\/api\/v1\/import\/csv\?(?!.*dryRun=1)/;
  await page.route(importRequest, async (route) => {
    await route.fetch();
    dropped++;
    await route.abort("connectionreset");
  });
  await page.getByRole("button", { name: "Import 2 streams" }).click();
  // the CSV form's alert (Next's route announcer is an alert too)
  const alert = page.getByRole("region", { name: "Import CSV" }).getByRole("alert");
  await expect(alert).toContainText("The connection to Omen was lost during the upload. Part of the file may already be stored.");
  await expect(alert).toContainText("Uploading the same file again is safe: samples already stored are skipped, not added twice.");
  await expect(alert).not.toContainText("Failed to fetch");
  expect(dropped).toBe(1);
  await shot(page, "sources-csv-connection-lost");

  // sent again over a working connection: nothing is added twice
  await page.unroute(importRequest);
  await page.getByRole("button", { name: "Import 2 streams" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Imported 3 rows (wide layout): 0 new samples in 2 streams." })).toBeVisible();
  await expect(alert).toHaveCount(0);
  expect(dropped).toBe(1);

  // a check that loses its connection stores nothing, and says that instead
  await page.route(/\/api\/v1\/import\/csv/, (route) => route.abort("internetdisconnected"));
  await page.getByRole("button", { name: "Check file" }).click();
  await expect(alert).toContainText("The connection to Omen was lost while checking the file. Nothing was stored");
  await page.unroute(/\/api\/v1\/import\/csv/);
  expect(errors().filter((e) => !/Failed to load resource|ERR_CONNECTION_RESET|ERR_INTERNET_DISCONNECTED/.test(e))).toEqual([]);
});

test("a CSV's running total is imported as a counter: the check shows each stream's kind and why, and the user can change it", async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto("/settings/sources");
  const csv = page.getByRole("region", { name: "Import CSV" });
  await csv.getByLabel("Source", { exact: true }).fill("e2e-kinds");
  const t = Date.now() - 700_000;
  const rows = ["timestamp,e2e_requests_served,e2e_cpu_pct,e2e_bytes_sent"];
  // a request total that restarts once (a deploy), a gauge, and a running total too short to tell
  for (let r = 0; r < 60; r++) rows.push(`${t + r * 10_000},${r < 40 ? 5_000 + 25 * r : 25 * (r - 39)},${(50 + 10 * Math.sin(r)).toFixed(2)},${r < 20 ? 300 * r : ""}`);
  await page.getByLabel("CSV file").setInputFiles({ name: "kinds.csv", mimeType: "text/csv", buffer: Buffer.from(rows.join("\n")) });
  await page.getByRole("button", { name: "Check file" }).click();
  const preview = page.getByTestId("csv-preview");
  await expect(preview).toContainText("will create or extend 3 streams");
  await expect(preview.getByLabel("Kind of e2e_requests_served")).toHaveValue("counter");
  await expect(preview.getByTestId("csv-preview-stream").filter({ hasText: "e2e_requests_served" })).toContainText("a running total (falls only to restart): scored by its rate");
  await expect(preview.getByLabel("Kind of e2e_cpu_pct")).toHaveValue("gauge");
  await expect(preview.getByLabel("Kind of e2e_bytes_sent")).toHaveValue("gauge");
  // the user knows better for the short column
  await preview.getByLabel("Kind of e2e_bytes_sent").selectOption("counter");
  await expect(preview.getByTestId("csv-preview-stream").filter({ hasText: "e2e_bytes_sent" })).toContainText("changed: detected as gauge");
  await shot(page, "sources-csv-kinds");
  await page.getByRole("button", { name: "Import 3 streams" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Counters, scored by their rate: e2e_requests_served, e2e_bytes_sent." })).toBeVisible();

  // checked again, the streams exist: they keep the kinds they were created with
  await page.getByRole("button", { name: "Check file" }).click();
  const bytes = preview.getByTestId("csv-preview-stream").filter({ hasText: "e2e_bytes_sent" });
  await expect(bytes).toContainText("20 samples · counter existing stream: keeps its kind");
  await expect(preview.getByLabel("Kind of e2e_bytes_sent")).toHaveCount(0);
  expect(errors()).toEqual([]);
});

test("a CSV with a repeated row and a stream named __proto__: the check says which samples are skipped, and the kind chosen for __proto__ is imported", async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto("/settings/sources");
  const csv = page.getByRole("region", { name: "Import CSV" });
  await csv.getByLabel("Source", { exact: true }).fill("e2e-edges");
  const t = Math.floor((Date.now() - 600_000) / 1000);
  // the second row repeats the first's time: its samples are not stored (the first row's are)
  const rows = ["timestamp,__proto__,e2e_edge_b", `${t},5,1`, `${t},9,2`, `${t + 10},3,1`, `${t + 20},8,2`, `${t + 30},2,1`];
  await page.getByLabel("CSV file").setInputFiles({ name: "edges.csv", mimeType: "text/csv", buffer: Buffer.from(rows.join("\n")) });
  await page.getByRole("button", { name: "Check file" }).click();
  const preview = page.getByTestId("csv-preview");
  await expect(preview.getByTestId("csv-preview-stream").filter({ hasText: "__proto__" })).toContainText("__proto__ · 4 samples");
  await expect(preview.getByTestId("csv-duplicates")).toContainText(
    `2 samples are skipped: each repeats a time its stream already has earlier in the file, and only the first is stored (e.g. __proto__ at ${new Date(t * 1000).toISOString()}: 2 samples, the first in the file kept;`,
  );
  // it read as changed before any choice (the lookup found Object.prototype), and the choice was never sent
  const proto = preview.getByLabel("Kind of __proto__");
  await expect(proto).toHaveValue("gauge");
  await expect(preview.getByText("changed: detected as")).toHaveCount(0);
  await proto.selectOption("counter");
  await page.getByRole("button", { name: "Import 2 streams" }).click();
  const status = page.getByRole("status").filter({ hasText: "Imported 5 rows" });
  await expect(status).toContainText("8 new samples in 2 streams. Counters, scored by their rate: __proto__. 2 samples are skipped:");
  await page.getByRole("button", { name: "Check file" }).click();
  await expect(preview.getByTestId("csv-preview-stream").filter({ hasText: "__proto__" })).toContainText("4 samples · counter existing stream: keeps its kind");
  expect(errors()).toEqual([]);
});

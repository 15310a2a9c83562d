import { expect, test, type Locator, type Page } from "@playwright/test";
import { collectConsoleErrors, horizontalOverflow, shot, shotViewport } from "./fixtures";
import { E2E } from "./seed-data";

/**
 * What a reader new to Omen reads before acting: pages named by what they are about (not by an
 * id), dates that fit their column, empty states that are whole sentences on a phone.
 */

const PHONE = { width: 390, height: 844 };
const LAPTOP = { width: 1280, height: 800 };

/** An id where a name should be: a uuid prefix ("bb77827d") or a bare number ("#101"). */
const RAW_ID = /\b[0-9a-f]{8}\b|#\d+/;

function crumbs(page: Page): Locator {
  return page.getByRole("navigation", { name: "Breadcrumb" });
}

/** The oldest open multi-stream anomaly of the seeded queues: it has similar past anomalies. */
async function openQueueAnomaly(page: Page): Promise<void> {
  await page.goto(`/anomalies?q=${E2E.queueMetric}&type=point&sort=start&dir=asc`);
  await page.getByTestId("anomaly-row").filter({ hasText: "+2" }).last().getByRole("link").first().click();
  await expect(page).toHaveURL(/\/anomalies\/[0-9a-f-]{36}$/);
}

test("stream, anomaly and incident pages are named in their breadcrumbs, not by id", async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.setViewportSize(LAPTOP);

  // Stream: source, group, then the stream's name with its labels.
  await page.goto("/");
  await page.getByLabel("Filter streams").fill(E2E.checkoutMetric);
  await page.getByTestId("stream-card").first().click();
  const streamTrail = crumbs(page);
  await expect(streamTrail.getByRole("listitem")).toHaveText(["Overview", E2E.source, E2E.checkoutGroup, E2E.checkoutKey]);
  await expect(streamTrail.locator('[aria-current="page"]')).toHaveText(E2E.checkoutKey);
  await shotViewport(page, "legibility-stream-crumbs");

  // Anomaly: its type and stream.
  await openQueueAnomaly(page);
  const anomalyCurrent = crumbs(page).locator('[aria-current="page"]');
  await expect(anomalyCurrent).toHaveText(new RegExp(`^point anomaly on ${E2E.queueMetric}\\{queue="\\w+"\\} \\+2$`));
  await expect(anomalyCurrent).not.toHaveText(RAW_ID);
  await expect(crumbs(page).getByRole("link", { name: "Anomalies" })).toHaveAttribute("href", "/anomalies");

  // Incident: where it is and what moved.
  await page.getByTestId("anomaly-incident").click();
  await expect(page).toHaveURL(/\/incidents\/\d+$/);
  const incidentCurrent = crumbs(page).locator('[aria-current="page"]');
  await expect(incidentCurrent).toHaveText(new RegExp(`^${E2E.source} / ${E2E.queueGroup}: .*${E2E.queueMetric}`));
  await expect(incidentCurrent).not.toHaveText(RAW_ID);
  await shotViewport(page, "legibility-incident-crumbs");

  // On a phone the trail stays one line: a long name is cut with an ellipsis, not wrapped or widened.
  await page.setViewportSize(PHONE);
  const box = await crumbs(page).boundingBox();
  expect(box?.height ?? 0).toBeLessThan(30);
  expect(await horizontalOverflow(page)).toBe(0);
  await expect(incidentCurrent).toHaveAttribute("title", /e2e_queue_depth/);
  await shotViewport(page, "legibility-incident-crumbs-phone");
  expect(errors()).toEqual([]);
});

/** Each "When" cell of the similar-anomalies table: on one line and not cut off. */
async function whenCells(page: Page) {
  return page.getByTestId("similar-table").locator("tbody td:first-child").evaluateAll((cells) =>
    cells.map((td) => {
      const a = td.querySelector("a")!;
      const lineHeight = parseFloat(getComputedStyle(a).lineHeight) || 18;
      return { text: a.textContent ?? "", lines: Math.round(a.getBoundingClientRect().height / lineHeight), clipped: td.scrollWidth > td.clientWidth + 1 };
    }),
  );
}

for (const size of [
  { name: "laptop", ...LAPTOP },
  { name: "phone", ...PHONE },
]) {
  test(`similar past anomalies: dates on one line at ${size.name} width`, async ({ page }) => {
    await page.setViewportSize({ width: size.width, height: size.height });
    await openQueueAnomaly(page);
    const table = page.getByTestId("similar-table");
    await expect(table.getByRole("row").nth(1)).toBeVisible();
    await table.scrollIntoViewIfNeeded();
    await shotViewport(page, `legibility-similar-${size.name}`);
    const cells = await whenCells(page);
    expect(cells.length).toBeGreaterThan(0);
    for (const c of cells) {
      expect(c.lines, `"${c.text}" wraps`).toBe(1);
      expect(c.clipped, `"${c.text}" is cut off`).toBe(false);
      // compact: no seconds (the full time is in the tooltip)
      expect(c.text).not.toMatch(/\d:\d\d:\d\d/);
    }
    await expect(table.locator("tbody td:first-child a").first()).toHaveAttribute("title", /\d:\d\d:\d\d/);
    // The table fits its column on a laptop and scrolls inside itself on a phone; the page never widens.
    expect(await horizontalOverflow(page)).toBe(0);
    if (size.name === "laptop") {
      expect(await table.evaluate((t) => t.scrollWidth <= t.clientWidth + 1)).toBe(true);
    }
  });
}

test("the empty deliveries list reads as one whole sentence on a phone", async ({ page }) => {
  await page.setViewportSize(PHONE);
  await page.goto("/alerts");
  const empty = page.getByTestId("deliveries-empty");
  await expect(empty).toHaveText("Nothing sent yet. Deliveries appear here when a rule matches an incident.");
  // all of it on screen: not cut by the sideways-scrolling table
  const box = (await empty.boundingBox())!;
  expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width);
  expect(await empty.evaluate((e) => e.scrollWidth <= e.clientWidth)).toBe(true);
  await shotViewport(page, "legibility-alerts-empty-phone");
});

test("a young stream on the default day offers to show its data from the first sample", async ({ page }) => {
  await page.setViewportSize(LAPTOP);
  await page.goto("/");
  await page.getByLabel("Filter streams").fill(E2E.checkoutMetric);
  await page.getByTestId("stream-card").first().click();
  // 2 hours of seeded samples on a 24-hour chart: a sliver at the right edge
  const note = page.getByTestId("stream-starts");
  await expect(note).toBeVisible();
  await note.getByRole("button", { name: "Show from the first sample" }).click();
  await expect(page).toHaveURL(/[?&]from=\d+&to=\d+/);
  await expect(note).toBeHidden();
  const from = Number(new URL(page.url()).searchParams.get("from"));
  const to = Number(new URL(page.url()).searchParams.get("to"));
  expect(to - from).toBeLessThan(3 * 3_600_000);
  await shot(page, "legibility-stream-from-first-sample");
});

test("incident start times stay on one line in the list at laptop width", async ({ page }) => {
  await page.setViewportSize(LAPTOP);
  await page.goto("/incidents");
  await expect(page.getByTestId("incident-row").first()).toBeVisible();
  // the Started column (after checkbox, severity, incident, streams): one line of text each
  // (a row is taller than one line for its two-line incident cell: count the text's own line boxes)
  const lines = await page.getByTestId("incident-row").locator("td:nth-child(5)").evaluateAll((cells) =>
    cells.map((td) => {
      const r = document.createRange();
      r.selectNodeContents(td);
      return new Set([...r.getClientRects()].map((q) => Math.round(q.top))).size;
    }),
  );
  expect(lines.length).toBeGreaterThan(0);
  for (const n of lines) expect(n).toBe(1);
  await shotViewport(page, "legibility-incidents-laptop");
});

test("on a phone the disabled bulk buttons give way to a hint until a row is selected", async ({ page }) => {
  await page.setViewportSize(PHONE);
  await page.goto("/incidents");
  const bar = page.getByRole("toolbar", { name: "Bulk actions" });
  await expect(bar.getByText("Select rows to acknowledge, resolve or label them.")).toBeVisible();
  await expect(bar.getByRole("button", { name: "Acknowledge" })).toBeHidden();
  const first = page.getByTestId("incident-row").first();
  const box = (await first.boundingBox())!;
  expect(box.y + box.height, "first incident below the fold").toBeLessThanOrEqual(PHONE.height);
  await shotViewport(page, "legibility-incidents-phone");
  // selecting a row brings the actions back, enabled
  await first.getByRole("checkbox").check();
  await expect(bar.getByRole("button", { name: "Acknowledge" })).toBeEnabled();
  await expect(bar.getByText("Select rows to acknowledge, resolve or label them.")).toBeHidden();
  await shotViewport(page, "legibility-incidents-phone-selected");
});

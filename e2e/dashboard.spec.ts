import { expect, test } from "@playwright/test";
import { collectConsoleErrors, shot } from "./fixtures";

test("dashboard shows live host streams with charts and opens a stream page", async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
  // The host collector reports within seconds of start-up; wait for at least three host streams.
  const hostCards = page.getByTestId("stream-card").filter({ hasText: /host_/ });
  await expect.poll(async () => hostCards.count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(3);
  // Each card draws its sparkline as an SVG path once it has points.
  const firstCard = hostCards.first();
  await expect(firstCard.locator("[data-testid=sparkline] svg path.recharts-curve").first()).toBeVisible();
  await shot(page, "dashboard");

  const memCard = page.getByTestId("stream-card").filter({ hasText: "host_memory_used_bytes" });
  await memCard.click();
  await expect(page.getByTestId("stream-title")).toContainText("host_memory_used_bytes");
  await expect(page.getByTestId("value-chart").locator('svg path.recharts-line-curve[name="value"]')).toBeVisible();
  await expect(page.getByRole("button", { name: "24h" })).toBeVisible();
  await page.getByRole("button", { name: "6h" }).click();
  await expect(page.getByRole("button", { name: "6h" })).toHaveAttribute("aria-pressed", "true");
  await expect(page.getByTestId("stream-window")).not.toContainText("loading");
  await shot(page, "stream-page");
  expect(errors()).toEqual([]);
});

test("read API answers health, streams and open anomalies as JSON", async ({ request }) => {
  const health = await request.get("/api/health");
  expect(health.ok()).toBe(true);
  const h = await health.json();
  expect(h.database.ok).toBe(true);
  await expect.poll(async () => (await (await request.get("/api/health")).json()).workers.some((w: { alive: boolean }) => w.alive)).toBe(true);
  const streams = await (await request.get("/api/v1/streams")).json();
  expect(streams.streams.length).toBeGreaterThanOrEqual(3);
  const anomalies = await request.get("/api/v1/anomalies?status=open");
  expect(anomalies.ok()).toBe(true);
  expect(Array.isArray((await anomalies.json()).anomalies)).toBe(true);
  const bad = await request.get("/api/v1/anomalies?status=bogus");
  expect(bad.status()).toBe(400);
  expect((await bad.json()).error).toMatch(/status/);
});

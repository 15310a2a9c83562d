import { collectConsoleErrors, expect, shot, test } from "./fixtures";
import { history, postOtlp } from "./triage-helpers";

/**
 * Two services whose latencies move together (the API waits on the database) spike at once:
 * the real worker finds an anomaly on each, and although they are different services, the
 * dependency graph links their streams, so the SRE gets one incident that says why.
 */
test("incident links: anomalies of two dependent services form one incident that names the link", async ({ page, request }) => {
  const errors = collectConsoleErrors(page);
  const now = Math.floor(Date.now() / 10_000) * 10_000;
  // Two hours at 10 s; the same wander (salt) on both, at their own levels, then a spike on both.
  const normal = (name: string, base: number) => ({ name, attrs: { host: "dep-1" }, points: history(now - 70_000, 720, 10_000, base, [], 31) });
  await postOtlp(request, "e2e-dep-db", [normal("e2e_dep_db_latency_ms", 20)]);
  await postOtlp(request, "e2e-dep-api", [normal("e2e_dep_api_latency_ms", 80)]);
  const spike = (name: string, level: number) => ({ name, attrs: { host: "dep-1" }, points: [0, 1, 2, 3, 4, 5].map((k): [number, number] => [now - 60_000 + k * 10_000, level + k]) });
  await postOtlp(request, "e2e-dep-db", [spike("e2e_dep_db_latency_ms", 95)]);
  await postOtlp(request, "e2e-dep-api", [spike("e2e_dep_api_latency_ms", 400)]);

  // One incident in the band holds both services' streams.
  await page.goto("/");
  const card = page.getByTestId("attention-incident").filter({ hasText: "e2e_dep_" });
  await expect(card).toHaveCount(1, { timeout: 60_000 });
  await card.getByTestId("attention-link").click();
  await expect(page).toHaveURL(/\/incidents\/\d+$/);
  const streams = page.getByTestId("incident-streams");
  await expect(streams).toContainText("e2e_dep_db_latency_ms", { timeout: 60_000 });
  await expect(streams).toContainText("e2e_dep_api_latency_ms", { timeout: 60_000 });
  // The page says which anomaly joined through the dependency graph, and through which edge.
  const link = page.getByTestId("incident-link");
  await expect(link).toHaveCount(1);
  await expect(link).toContainText(/e2e_dep_(api|db)_latency_ms.*joined: its moves agree with .*e2e_dep_(api|db)_latency_ms/);
  await expect(link).toContainText(/correlation (0\.9\d|1\.00)/);
  await expect(page.locator(".timeline-row .link-mark")).toHaveCount(1);
  await shot(page, "incident-linked");
  expect(errors()).toEqual([]);
});

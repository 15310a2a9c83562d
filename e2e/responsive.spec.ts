import { expect, test, type Page } from "@playwright/test";
import { shotViewport } from "./fixtures";
import { E2E } from "./seed-data";

/**
 * Every main page at a phone width and a laptop width, as the user first sees it (viewport
 * screenshots under e2e/artifacts/responsive-*.png), with the layout faults a test of content
 * misses: a page wider than the screen, a heading under the sticky top bar, a chart drawn 0 px wide.
 */
const SIZES = [
  { name: "phone", width: 390, height: 844 },
  { name: "laptop", width: 1280, height: 800 },
] as const;

/** Resolves the pages whose URL holds an id: the first anomaly, incident and the checkout stream. */
async function detailUrls(page: Page): Promise<{ anomaly: string; incident: string; stream: string }> {
  await page.goto(`/anomalies?q=${E2E.checkoutMetric}`);
  const anomaly = await page.getByTestId("anomaly-row").first().getByRole("link").first().getAttribute("href");
  await page.goto("/incidents");
  const incident = await page.getByTestId("incident-row").first().getByRole("link").first().getAttribute("href");
  await page.goto("/");
  await page.getByLabel("Filter streams").fill(E2E.checkoutMetric);
  const stream = await page.getByTestId("stream-card").first().getAttribute("href");
  if (!anomaly || !incident || !stream) throw new Error(`missing a detail link: ${anomaly} ${incident} ${stream}`);
  return { anomaly, incident, stream };
}

/** Layout facts measured in the page: overflow, heading position against the top bar, chart sizes. */
async function layout(page: Page) {
  return page.evaluate(() => {
    const doc = document.documentElement;
    const bar = document.querySelector("header.topbar")?.getBoundingClientRect();
    const h1 = document.querySelector("main h1")?.getBoundingClientRect();
    // The outermost elements past the right edge (their parent fits), outside scrolling boxes:
    // named so a failure says where the fix belongs.
    const past = (e: Element | null): boolean => e !== null && e.getBoundingClientRect().right > doc.clientWidth + 1;
    const scrolls = (e: Element): boolean => {
      for (let p = e.parentElement; p; p = p.parentElement) if (["auto", "scroll", "hidden"].includes(getComputedStyle(p).overflowX)) return true;
      return false;
    };
    const wide = [...document.querySelectorAll("body *")]
      .filter((e) => past(e) && !past(e.parentElement) && !scrolls(e))
      .slice(0, 5)
      .map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join(".")}`);
    const charts = [...document.querySelectorAll("svg.recharts-surface")].map((s) => {
      const r = s.getBoundingClientRect();
      return { w: r.width, h: r.height };
    });
    return { scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, barBottom: bar?.bottom ?? 0, h1Top: h1?.top ?? 0, wide, charts };
  });
}

for (const size of SIZES) {
  test(`main pages fit a ${size.name} screen (${size.width}×${size.height})`, async ({ page, browser }) => {
    test.setTimeout(180_000);
    await page.setViewportSize({ width: size.width, height: size.height });
    const ids = await detailUrls(page);
    const pages: [string, string][] = [
      ["overview", "/"],
      ["anomalies", "/anomalies"],
      ["anomaly", ids.anomaly],
      ["incidents", "/incidents"],
      ["incident", ids.incident],
      ["stream", ids.stream],
      ["alerts", "/alerts"],
      ["settings", "/settings"],
      ["sources", "/settings/sources"],
      ["models", "/settings/models"],
      ["detectors", "/settings/detectors"],
    ];
    for (const [name, url] of pages) {
      await page.goto(url);
      await expect(page.locator("main h1").first()).toBeVisible();
      await page.waitForLoadState("networkidle");
      await shotViewport(page, `responsive-${size.name}-${name}`);
      const l = await layout(page);
      expect.soft(l.scrollWidth, `${name}: page wider than the screen (${l.wide.join(", ")})`).toBeLessThanOrEqual(l.clientWidth);
      expect.soft(l.h1Top, `${name}: heading under the top bar`).toBeGreaterThanOrEqual(l.barBottom);
      for (const c of l.charts) expect.soft(c.w > 0 && c.h > 0, `${name}: a chart drawn ${c.w}×${c.h}`).toBe(true);
    }
    // Signed out: the sign-in page.
    const anon = await browser.newContext({ viewport: { width: size.width, height: size.height } });
    const login = await anon.newPage();
    await login.goto("/login");
    await expect(login.getByRole("button", { name: "Sign in" })).toBeVisible();
    await shotViewport(login, `responsive-${size.name}-login`);
    const l = await layout(login);
    expect.soft(l.scrollWidth, "login: page wider than the screen").toBeLessThanOrEqual(l.clientWidth);
    await anon.close();
  });
}

import type { APIRequestContext } from "@playwright/test";
import { encodeWriteRequest } from "../lib/ingest/remote-write";
import { collectConsoleErrors, expect, shot, test } from "./fixtures";
import { TOKEN } from "./triage-helpers";

/** Prometheus' staleness marker: the NaN it writes when a series disappears. */
const STALE = new Float64Array(new Uint32Array([2, 0x7ff00000]).buffer)[0]!;
const METRIC = "e2e_ended_gauge";
const STEP = 10_000;

/** One remote_write request, as Prometheus sends it, with the e2e ingest token. */
async function remoteWrite(request: APIRequestContext, samples: { timestamp: number; value: number }[]): Promise<void> {
  const body = encodeWriteRequest({ timeseries: [{ labels: [{ name: "__name__", value: METRIC }, { name: "instance", value: "gone:9100" }], samples }] });
  const res = await request.post("/api/v1/write?source=e2e-ended", {
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/x-protobuf", "content-encoding": "snappy" },
    data: Buffer.from(body),
  });
  expect(res.status(), await res.text()).toBe(204);
}

test("a stream Prometheus marked stale shows \"ended <time>\" on the overview and its page, until a new sample revives it", async ({ page, request }) => {
  const errors = collectConsoleErrors(page);
  // ten minutes of a gauge, then the staleness marker Prometheus writes when the series is gone
  const t0 = Math.floor(Date.now() / STEP) * STEP - 60 * STEP;
  await remoteWrite(request, Array.from({ length: 60 }, (_, i) => ({ timestamp: t0 + i * STEP, value: 40 + 5 * Math.sin(i / 5) })));
  const markerAt = t0 + 60 * STEP;
  await remoteWrite(request, [{ timestamp: markerAt, value: STALE }]);

  await page.goto("/?");
  await page.getByLabel("Filter streams").fill(METRIC);
  const card = page.getByTestId("stream-card");
  await expect(card).toHaveCount(1);
  const cardBadge = card.getByTestId("stream-ended");
  await expect(cardBadge).toHaveText(/^ended (\d+ s|\d+ min) ago$/);
  await expect(cardBadge).toHaveAttribute("title", /marked this series stale/);
  // "ended" explains the silence: no "stale" badge beside it
  await expect(card.locator(".badge.stale")).toHaveCount(0);
  await shot(page, "stream-ended-overview");

  await card.click();
  await expect(page.getByTestId("stream-title")).toHaveText(`${METRIC}{instance="gone:9100"}`);
  const pageBadge = page.getByTestId("stream-ended");
  await expect(pageBadge).toHaveText(/^ended (\d+ s|\d+ min) ago$/);
  await shot(page, "stream-ended-page");

  // the series is back: once the worker has scored the new sample, the stream is no longer ended
  await remoteWrite(request, [{ timestamp: markerAt + STEP, value: 41 }]);
  await expect(pageBadge).toHaveCount(0, { timeout: 45_000 });
  await shot(page, "stream-ended-revived");
  await page.goto("/?");
  await page.getByLabel("Filter streams").fill(METRIC);
  await expect(page.getByTestId("stream-card")).toHaveCount(1);
  await expect(page.getByTestId("stream-card").getByTestId("stream-ended")).toHaveCount(0);
  expect(errors()).toEqual([]);
});

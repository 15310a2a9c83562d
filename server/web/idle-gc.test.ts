import http from "node:http";
import { constants, PerformanceObserver, type PerformanceEntry } from "node:perf_hooks";
import v8 from "node:v8";
import { afterEach, describe, expect, it } from "vitest";
import { startIdleGc } from "./idle-gc";

const liveMb = () => v8.getHeapStatistics().used_heap_size / 2 ** 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let server: http.Server | undefined;
afterEach(() => server?.close());

/** Counts forced garbage collections (the `gc()` calls; V8's own collections are not forced). */
function forcedGcs(): { count: () => number; stop: () => void } {
  let n = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries() as (PerformanceEntry & { detail?: { flags?: number } })[]) if ((e.detail?.flags ?? 0) & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) n++;
  });
  obs.observe({ entryTypes: ["gc"] });
  return { count: () => n, stop: () => obs.disconnect() };
}

describe("startIdleGc", () => {
  it("gives a burst's old-generation garbage back once the server is quiet, and only then", async () => {
    server = http.createServer((_req, res) => res.end("ok"));
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    const gcs = forcedGcs();
    // slack 0: whether V8 already gave the burst's pages back by itself depends on its
    // heuristics; with no slack the quiet-spell rule is what decides, every run
    const stop = startIdleGc(server, { idleMs: 1_500, slackBytes: 0 });
    try {
      // a burst whose objects outlive scavenges (promoted), then are dropped
      let keep: object[][] = [];
      for (let r = 0; r < 40; r++) {
        keep.push(Array.from({ length: 50_000 }, (_, i) => ({ r, i, s: `request-${r}-${i}`, a: [i, i + 1] })));
        if (keep.length > 8) keep.shift();
        await new Promise((res) => setImmediate(res));
      }
      const peakLive = liveMb();
      keep = [];
      await (await fetch(url)).text();
      // (the burst itself may outlast a quiet period: count from the last request on)
      const before = gcs.count();
      // still within the quiet period: no collection by it yet
      await sleep(500);
      expect(gcs.count() - before).toBe(0);
      await sleep(2_500);
      expect(gcs.count() - before).toBe(1);
      // after it, the burst's garbage is gone
      expect(liveMb()).toBeLessThan(peakLive / 2);
      // one collection per quiet spell; a request starts a new spell
      await sleep(1_200);
      expect(gcs.count() - before).toBe(1);
      await (await fetch(url)).text();
      await sleep(3_000);
      expect(gcs.count() - before).toBe(2);
    } finally {
      stop();
      gcs.stop();
    }
  }, 40_000);
});

import { monitorEventLoopDelay } from "node:perf_hooks";

export interface TimedPhase {
  ms: number;
  /** the longest event-loop hold seen: `monitorEventLoopDelay`'s maximum or the longest gap between 5-ms samples */
  loopMaxMs: number;
  /** peak growth over the phase's start: RSS, heap used, array buffers (bytes) */
  rss: number;
  heap: number;
  arrayBuffers: number;
}

/**
 * Runs `fn` once, sampling memory every 5 ms. The longest gap between two samples counts as an
 * event-loop hold too: `monitorEventLoopDelay` reported 0 ms for a 2-s hold (PGlite's archive
 * copy in one statement), a hold as long as the whole phase.
 */
export async function timedPhase(fn: () => Promise<void>): Promise<TimedPhase> {
  global.gc?.();
  const base = process.memoryUsage();
  const peak = { rss: 0, heap: 0, arrayBuffers: 0 };
  let last = performance.now();
  let gap = 0;
  const sample = () => {
    const now = performance.now();
    gap = Math.max(gap, now - last);
    last = now;
    const m = process.memoryUsage();
    peak.rss = Math.max(peak.rss, m.rss - base.rss);
    peak.heap = Math.max(peak.heap, m.heapUsed - base.heapUsed);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers - base.arrayBuffers);
  };
  const timer = setInterval(sample, 5);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const t = performance.now();
  await fn();
  const ms = performance.now() - t;
  sample();
  loop.disable();
  clearInterval(timer);
  return { ms, ...peak, loopMaxMs: Math.max(loop.max / 1e6, gap - 5) };
}

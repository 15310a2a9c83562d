/**
 * Loaded into a process under a benchmark (for the web process:
 * `OMEN_TEST_WEB_NODE_ARGS="--import tsx --import ./bench/lib/loop-delay-probe.ts"`): measures
 * how late its event loop runs. On SIGUSR2 it prints one line, `[loop-delay] {json}`, with the
 * delay percentiles (perf_hooks `monitorEventLoopDelay`) since the previous SIGUSR2 and every
 * stall over STALL_MS, then starts over.
 *
 * A stall says where its time went, from the main thread's /proc schedstat (Linux): `runMs` on a
 * CPU (the process's own work), `waitMs` runnable but waiting for a CPU (other processes had
 * them: a busy machine, not this process), the rest blocked (synchronous I/O, locks); and
 * `gcMs`, garbage-collection pauses within it.
 */
import fs from "node:fs";
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";

const STALL_MS = 50;
const TICK_MS = 10;
const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`;

const histogram = monitorEventLoopDelay({ resolution: TICK_MS });
histogram.enable();

/** The main thread's time on a CPU and waiting for one (ms), or null off Linux. */
function schedTimes(): { run: number; wait: number } | null {
  try {
    const [run, wait] = fs.readFileSync(SCHEDSTAT, "utf8").split(" ").map(Number);
    return { run: run! / 1e6, wait: wait! / 1e6 };
  } catch {
    return null;
  }
}

interface Stall {
  atMs: number;
  ms: number;
  runMs?: number;
  waitMs?: number;
  gcMs: number;
}
let stalls: Stall[] = [];
/** Recent GC pauses (wall-clock start, length), to credit to the stalls they fall in. */
let gcs: { atMs: number; ms: number }[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcs.push({ atMs: performance.timeOrigin + e.startTime, ms: e.duration });
  if (gcs.length > 10_000) gcs = gcs.slice(-5_000);
}).observe({ entryTypes: ["gc"] });

let expected = performance.now() + TICK_MS;
let sched = schedTimes();
setInterval(() => {
  const now = performance.now();
  const late = now - expected;
  const nowSched = schedTimes();
  if (late > STALL_MS) {
    const from = performance.timeOrigin + expected;
    const to = performance.timeOrigin + now;
    let gcMs = 0;
    for (const g of gcs) gcMs += Math.max(0, Math.min(to, g.atMs + g.ms) - Math.max(from, g.atMs));
    const stall: Stall = { atMs: Math.round(from), ms: Math.round(late), gcMs: Math.round(gcMs) };
    if (sched && nowSched) {
      stall.runMs = Math.round(nowSched.run - sched.run);
      stall.waitMs = Math.round(nowSched.wait - sched.wait);
    }
    stalls.push(stall);
  }
  sched = nowSched;
  expected = now + TICK_MS;
}, TICK_MS).unref();

process.on("SIGUSR2", () => {
  const ms = (ns: number) => Math.round(ns / 1e5) / 10;
  const report = { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max), stalls };
  console.log(`[loop-delay] ${JSON.stringify(report)}`);
  histogram.reset();
  stalls = [];
});

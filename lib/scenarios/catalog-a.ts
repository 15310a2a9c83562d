/**
 * Scenario definitions, part A: single-host gauges (CPU, latency, memory, queue).
 * Positions and magnitudes are drawn from the placement RNG, so another seed moves them.
 */
import { ScenarioBuilder, type BuildOptions } from "./builder";
import {
  add,
  addBump,
  applyMask,
  ar1Noise,
  clamp,
  heavyTailBlips,
  map,
  scaleBump,
  scrapeGapMask,
  traffic,
} from "./signals";
import type { Scenario } from "./types";

const MIN = 60_000;

/** CPU % of a web tier: diurnal + weekly load, a nightly backup cron (normal), three spikes. */
export function webCpuSpikes(opts: BuildOptions): Scenario {
  const b = new ScenarioBuilder(
    {
      name: "web-cpu-spikes",
      description:
        "CPU % of a web node; daily/weekly load, a recurring 02:00 backup cron (normal), heavy-tail blips; three spikes incl. one at night",
      stepMs: MIN,
      days: 7,
      leadInDays: 2,
    },
    opts,
  );
  const load = traffic(b.timestampsMs, { peak: 1, troughRatio: 0.22, weekendFactor: 0.7 });
  const cpu = add(
    map(load, (v) => 10 + 50 * v),
    ar1Noise(b.fork("noise"), b.n, 2.2, 0.8),
    heavyTailBlips(b.fork("blips"), b.n, 1 / 600, 2.2),
  );
  // Nightly backup job 02:00–02:08, every day: recurring, therefore normal.
  for (let d = 0; d < 7; d++) addBump(cpu, b.index(d, 2), b.index(d, 2) + b.rows(8), 28, 2, 2);

  const peakSpike = b.randomIndex(3, 13, 17);
  const peakLen = b.rows(b.rng.uniform(6, 12));
  const nightSpike = b.randomIndex(4, 3, 4.5);
  const nightLen = b.rows(b.rng.uniform(15, 25));
  const sunSpike = b.randomIndex(6, 10, 20);
  const sunLen = b.rows(b.rng.uniform(4, 7));
  b.apply(() => {
    addBump(cpu, peakSpike, peakSpike + peakLen - 1, 38, 2, 2);
    addBump(cpu, nightSpike, nightSpike + nightLen - 1, 25, 3, 3);
    addBump(cpu, sunSpike, sunSpike + sunLen - 1, 32, 1, 2);
  });
  b.label(peakSpike, peakSpike + peakLen - 1, "spike", ["cpu_percent"], "runaway request loop at peak");
  b.label(nightSpike, nightSpike + nightLen - 1, "contextual", ["cpu_percent"], "reindex job started by hand at night: daytime-like CPU before dawn");
  b.label(sunSpike, sunSpike + sunLen - 1, "spike", ["cpu_percent"], "short CPU spike on Sunday");

  clamp(cpu, 0, 100);
  applyMask(cpu, scrapeGapMask(b.fork("gaps"), b.n, 1 / 2000, 3));
  b.addStream("cpu_percent", "percent", "gauge", cpu);
  return b.build();
}

/** p95 API latency with traffic growth (trend) and three level changes. */
export function apiLatencyLevelShift(opts: BuildOptions): Scenario {
  const b = new ScenarioBuilder(
    {
      name: "api-latency-level-shift",
      description:
        "p95 latency of an API at 2-min steps, growing traffic (+1 %/day trend, normal); a bad deploy (+60 % for ~3 h), a subtle +25 % shift, a fast-fail drop",
      stepMs: 2 * MIN,
      days: 14,
      leadInDays: 4,
    },
    opts,
  );
  const load = traffic(b.timestampsMs, { peak: 1, troughRatio: 0.2, weekendFactor: 0.65, growthPerDay: 0.01 });
  const noise = ar1Noise(b.fork("noise"), b.n, 0.07, 0.75);
  const blips = heavyTailBlips(b.fork("blips"), b.n, 1 / 400, 0.07, "up");
  const base = map(load, (v) => 110 * (1 + 0.7 * v * v));
  const factor = new Float64Array(b.n).fill(1);

  const deploy = b.randomIndex(6, 10, 15);
  const deployLen = b.rows(b.rng.uniform(150, 200));
  const subtle = b.randomIndex(9, 9, 12);
  const subtleLen = b.rows(b.rng.uniform(300, 400));
  const drop = b.randomIndex(12, 11, 16);
  const dropLen = b.rows(b.rng.uniform(60, 100));
  b.apply(() => {
    scaleBump(factor, deploy, deploy + deployLen - 1, 1.6, 2, 2);
    scaleBump(factor, subtle, subtle + subtleLen - 1, 1.25, 3, 3);
    scaleBump(factor, drop, drop + dropLen - 1, 0.55, 1, 1);
  });
  b.label(deploy, deploy + deployLen - 1, "level-shift", ["p95_latency_ms"], "bad deploy, rolled back after ~3 h");
  b.label(subtle, subtle + subtleLen - 1, "level-shift", ["p95_latency_ms"], "subtle +25 % (noisy neighbour)");
  b.label(drop, drop + dropLen - 1, "drop", ["p95_latency_ms"], "latency falls: requests fail fast on a broken dependency");

  const lat = map(base, (v, i) => v * (factor[i] ?? 1) * Math.exp((noise[i] ?? 0) + (blips[i] ?? 0) - 0.0025));
  applyMask(lat, scrapeGapMask(b.fork("gaps"), b.n, 1 / 1500, 2));
  b.addStream("p95_latency_ms", "ms", "gauge", lat);
  return b.build();
}

/** Resident memory with GC sawtooth, weekly deploy restarts, and a slow leak ending in OOM. */
export function jvmMemoryLeak(opts: BuildOptions): Scenario {
  const b = new ScenarioBuilder(
    {
      name: "jvm-memory-leak",
      description:
        "RSS bytes + GC pause of a JVM service: GC sawtooth, cold-start warm-up after deploy restarts (normal); a slow leak over ~15–20 h ending in an OOM kill",
      stepMs: MIN,
      days: 10,
      leadInDays: 3,
    },
    opts,
  );
  const GB = 1024 ** 3;
  const limit = 4 * GB;
  const load = traffic(b.timestampsMs, { peak: 1, troughRatio: 0.25, weekendFactor: 0.7 });
  const leakStart = b.randomIndex(4, 8, 20);
  const leakLen = b.rows(b.rng.uniform(26, 36) * 60);
  const deploys = [b.index(1, 11), b.index(8, 10.5)];
  const leakRng = b.fork("leak");
  const leakNoise = new Float64Array(b.n);
  for (let i = 0; i < b.n; i++) leakNoise[i] = leakRng.gaussian();

  const simulate = (withLeak: boolean): { mem: Float64Array; oom: number } => {
    const rng = b.fork("sim");
    const mem = new Float64Array(b.n);
    let heap = 0.3 * GB;
    let leaked = 0;
    let sinceRestart = 0;
    let oom = -1;
    const restarts = new Set(deploys);
    const leakSlope = (1.9 * GB) / leakLen; // bytes per row; reaches the limit near the end
    for (let i = 0; i < b.n; i++) {
      const alloc = rng.uniform(0.6, 1.4) * (8 + 30 * (load[i] ?? 0)) * 1024 ** 2;
      const gcDraw = rng.uniform(0.15, 0.25);
      const jitter = rng.gaussian();
      if (restarts.has(i)) {
        heap = 0.3 * GB;
        leaked = 0;
        sinceRestart = 0;
      }
      if (withLeak && i >= leakStart && oom < 0) leaked += leakSlope * (1 + 0.3 * (leakNoise[i] ?? 0));
      const warm = 1 - Math.exp(-sinceRestart / 90); // caches warm over ~1.5 h
      heap += alloc;
      if (heap > 1.1 * GB) heap = gcDraw * GB; // young/old GC cycle
      const rss = 1.3 * GB + 0.45 * GB * warm + 0.25 * GB * (load[i] ?? 0) + heap + leaked + 8 * 1024 ** 2 * jitter;
      if (withLeak && oom < 0 && rss >= limit) {
        oom = i;
        heap = 0.3 * GB;
        leaked = 0;
        sinceRestart = 0;
        restarts.add(i);
        mem[i] = Number.NaN; // the process is being killed: no scrape
        continue;
      }
      mem[i] = rss;
      sinceRestart++;
    }
    return { mem, oom };
  };
  const withLeak = simulate(true);
  const mem = b.inject ? withLeak.mem : simulate(false).mem;
  const oom = withLeak.oom >= 0 ? withLeak.oom : leakStart + leakLen;
  b.label(leakStart, oom, "leak", ["process_resident_memory_bytes", "jvm_gc_pause_ms"], "memory leak ramp until OOM kill", b.t(oom));
  b.markAftermath(oom + 1, b.n - 1, "restarted after OOM: cold caches, different GC phase");

  const gcNoise = ar1Noise(b.fork("gc-noise"), b.n, 0.15, 0.5);
  const gcBlips = heavyTailBlips(b.fork("gc-blips"), b.n, 1 / 500, 0.15, "up");
  const gc = map(mem, (m, i) => {
    if (Number.isNaN(m)) return Number.NaN;
    const pressure = Math.max(0, (m - 2.6 * GB) / (limit - 2.6 * GB));
    return (10 + 12 * (load[i] ?? 0) + 400 * pressure * pressure) * Math.exp((gcNoise[i] ?? 0) + (gcBlips[i] ?? 0));
  });
  const gaps = scrapeGapMask(b.fork("gaps"), b.n, 1 / 2500, 3);
  for (let i = 0; i < b.n; i++) mem[i] = Math.round(mem[i] ?? Number.NaN); // bytes are integers
  applyMask(mem, gaps);
  applyMask(gc, gaps);
  b.addStream("process_resident_memory_bytes", "bytes", "gauge", mem);
  b.addStream("jvm_gc_pause_ms", "ms", "gauge", gc);
  return b.build();
}

/** Queue depth and consumer throughput from a small queue simulation; two consumer problems. */
export function queueConsumerStall(opts: BuildOptions): Scenario {
  const b = new ScenarioBuilder(
    {
      name: "queue-consumer-stall",
      description:
        "Work queue depth + consumer throughput (simulated): producer bursts drain quickly (normal); a consumer stall on a poison message and a capacity drop below peak load",
      stepMs: MIN,
      days: 7,
      leadInDays: 2,
    },
    opts,
  );
  const load = traffic(b.timestampsMs, { peak: 1, troughRatio: 0.2, weekendFactor: 0.8 });
  const stall = b.randomIndex(3, 9, 18);
  const stallLen = b.rows(b.rng.uniform(18, 30));
  const degrade = b.randomIndex(4, 12, 14);
  const degradeLen = b.rows(b.rng.uniform(90, 130));

  const simulate = (faults: boolean): { depth: Float64Array; thr: Float64Array } => {
    const rng = b.fork("sim");
    const burstRng = b.fork("bursts");
    const depth = new Float64Array(b.n);
    const thr = new Float64Array(b.n);
    let d = 0;
    for (let i = 0; i < b.n; i++) {
      const producer = 200 * (load[i] ?? 0) * Math.exp(0.08 * rng.gaussian());
      let arrivals = rng.poisson(producer * 60);
      if (burstRng.next() < 1 / 720) arrivals += Math.round(burstRng.uniform(4000, 9000)); // batch flush
      else burstRng.next();
      let capacity = 400 * 60 * rng.uniform(0.95, 1.05);
      if (faults && i >= stall && i < stall + stallLen) capacity = 5 * 60;
      if (faults && i >= degrade && i < degrade + degradeLen) capacity = 150 * 60;
      const want = 0.9 * d + 0.95 * arrivals;
      const consumed = Math.min(capacity, want);
      d = Math.max(0, d + arrivals - consumed);
      depth[i] = d;
      thr[i] = consumed / 60;
    }
    return { depth, thr };
  };
  const faulty = simulate(true);
  const clean = simulate(false);
  // Each window lasts until the backlog is back within 20 % (+200 msgs) of the fault-free run.
  const recovered = (from: number): number => {
    for (let i = from; i < b.n; i++) {
      const f = faulty.depth[i] ?? 0;
      const c = clean.depth[i] ?? 0;
      if (Math.abs(f - c) <= 0.2 * c + 200 && Math.abs((faulty.thr[i] ?? 0) - (clean.thr[i] ?? 0)) <= 0.2 * (clean.thr[i] ?? 0) + 5) return i;
    }
    return b.n - 1;
  };
  const stallEnd = recovered(stall + stallLen);
  const degradeEnd = recovered(degrade + degradeLen);
  b.label(stall, stallEnd, "stall", ["consumer_throughput", "queue_depth"], "consumer stuck on a poison message; backlog grows then drains");
  b.label(degrade, degradeEnd, "level-shift", ["consumer_throughput", "queue_depth"], "half the consumers lost: capacity below peak load");
  b.markAftermath(stallEnd + 1, stallEnd + b.rows(120), "residual backlog tail");
  b.markAftermath(degradeEnd + 1, degradeEnd + b.rows(120), "residual backlog tail");

  const use = b.inject ? faulty : clean;
  const gaps = scrapeGapMask(b.fork("gaps"), b.n, 1 / 2500, 2);
  const depth = Float64Array.from(use.depth);
  const thr = Float64Array.from(use.thr);
  applyMask(depth, gaps);
  applyMask(thr, gaps);
  b.addStream("queue_depth", "messages", "gauge", depth);
  b.addStream("consumer_throughput", "msg/s", "gauge", thr);
  return b.build();
}

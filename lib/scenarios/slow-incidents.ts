/**
 * Slowly developing incidents, for measuring predictions: a resource that drifts for hours
 * towards a limit where it does harm (`impactMs`): a disk filling up, a container's memory
 * leaking to its OOM limit, a queue backing up to its maximum length, latency creeping past its
 * SLO, a connection pool draining. Each scenario has the incident's stream and two normal,
 * seasonal companions (CPU %, request rate) on which any prediction is a false one.
 *
 * Not part of the detection catalogue (`SCENARIO_NAMES`): these exist to ask whether a
 * prediction comes at least 30 minutes before the harm. Positions, durations (3–10 h from the
 * start of the drift to the harm) and noise are drawn from the seed, so several seeds give a
 * sample of incidents.
 */
import { ScenarioBuilder, type BuildOptions } from "./builder";
import { add, ar1Noise, heavyTailBlips, map, traffic } from "./signals";
import type { AnomalyKind, Scenario } from "./types";

const MIN = 60_000;

export const SLOW_INCIDENT_KINDS = ["disk-fill", "memory-leak", "queue-backlog", "latency-creep", "pool-exhaustion"] as const;
export type SlowIncidentKind = (typeof SLOW_INCIDENT_KINDS)[number];

interface Incident {
  stream: string;
  unit: string;
  kind: AnomalyKind;
  description: string;
  /** The series with the drift starting at row `start` (noise included); `impact` = first harmful row. */
  build: (b: ScenarioBuilder, load: Float64Array, start: number, hours: number) => { values: Float64Array; impact: number };
}

/** First row ≥ from where `f(i)` holds (n − 1 when none). */
function firstRow(n: number, from: number, f: (i: number) => boolean): number {
  for (let i = from; i < n; i++) if (f(i)) return i;
  return n - 1;
}

const INCIDENTS: Record<SlowIncidentKind, Incident> = {
  "disk-fill": {
    stream: "disk_used_percent",
    unit: "%",
    kind: "fill",
    description: "runaway debug logging fills the disk",
    build: (b, _load, start, hours) => {
      const noise = ar1Noise(b.fork("disk-noise"), b.n, 0.15, 0.9);
      const v = new Float64Array(b.n);
      const base = 40 + 15 * b.rng.next();
      const rate = (100 - base - 3) / (hours * 60); // % per minute until full
      let extra = 0;
      let full = -1;
      for (let i = 0; i < b.n; i++) {
        if (full >= 0 && i === full + 15) extra = 0; // on-call deletes the runaway log
        const hourOfDay = ((b.timestampsMs[i]! - b.timestampsMs[0]!) / 3_600_000) % 24;
        // logs grow 3 % a day and are rotated at 03:00 (normal sawtooth)
        const daily = 3 * (((hourOfDay - 3 + 24) % 24) / 24);
        if (b.inject && i >= start && full < 0) extra += rate * (1 + 0.3 * noise[i]!);
        v[i] = Math.min(100, base + daily + extra + noise[i]!);
        if (b.inject && full < 0 && i >= start && v[i]! >= 99.5) full = i;
      }
      return { values: v, impact: full >= 0 ? full : b.n - 1 };
    },
  },
  "memory-leak": {
    stream: "container_memory_working_set_bytes",
    unit: "bytes",
    kind: "leak",
    description: "a leak grows the container's memory to its limit (OOM kill)",
    build: (b, load, start, hours) => {
      const MB = 1024 ** 2;
      const limit = 3072 * MB;
      const noise = ar1Noise(b.fork("mem-noise"), b.n, 25 * MB, 0.7);
      const base = new Float64Array(b.n);
      for (let i = 0; i < b.n; i++) base[i] = 1400 * MB + 500 * MB * load[i]! + noise[i]!;
      const headroom = limit - (base[start] ?? 0);
      const rate = headroom / (hours * 60);
      const v = new Float64Array(b.n);
      let leaked = 0;
      let oom = -1;
      for (let i = 0; i < b.n; i++) {
        if (b.inject && i >= start && oom < 0) leaked += rate;
        v[i] = Math.round(base[i]! + leaked);
        if (oom < 0 && v[i]! >= limit) {
          oom = i;
          leaked = 0; // killed and restarted
        }
      }
      return { values: v, impact: oom >= 0 ? oom : firstRow(b.n, start, () => false) };
    },
  },
  "queue-backlog": {
    stream: "queue_depth",
    unit: "messages",
    kind: "backlog",
    description: "consumers fall slightly behind the producers; the backlog grows to the queue's limit",
    build: (b, load, start, hours) => {
      const deficit = b.rng.uniform(0.12, 0.25);
      const simulate = (fault: boolean, until: number): Float64Array => {
        const rng = b.fork("queue-sim");
        const depth = new Float64Array(b.n);
        let d = 0;
        for (let i = 0; i < b.n; i++) {
          const arrivals = rng.poisson(300 * load[i]! * 60);
          // after the harm (the queue is full) the slow consumer is found and fixed
          const capacity = fault && i >= start && i <= until ? (1 - deficit) * 300 * load[i]! * 60 : 600 * 60;
          d = Math.max(0, d + arrivals - Math.min(capacity, 0.9 * d + arrivals));
          depth[i] = d;
        }
        return depth;
      };
      const limitRow = Math.min(b.n - 1, start + b.rows(hours * 60));
      const faulty = simulate(true, limitRow);
      return { values: b.inject ? faulty : simulate(false, -1), impact: limitRow };
    },
  },
  "latency-creep": {
    stream: "p99_latency_ms",
    unit: "ms",
    kind: "creep",
    description: "table bloat makes p99 latency creep up until it breaches the SLO",
    build: (b, load, start, hours) => {
      const noise = ar1Noise(b.fork("lat-noise"), b.n, 0.06, 0.6);
      const blips = heavyTailBlips(b.fork("lat-blips"), b.n, 1 / 800, 0.15, "up");
      const normal = (i: number) => 120 + 60 * load[i]!;
      const slo = 2 * 180; // twice the normal weekday peak
      // the factor needed to reach the SLO after `hours`, whatever the time of day then
      const endRow = Math.min(b.n - 1, start + b.rows(hours * 60));
      const growth = (slo / normal(endRow) - 1) / (endRow - start);
      const drift = (i: number) => (i >= start ? 1 + growth * (i - start) : 1);
      const impact = firstRow(b.n, start, (i) => normal(i) * drift(i) >= slo);
      // 30 minutes after the breach the bloated table is vacuumed
      const creep = (i: number) => (b.inject && i <= impact + 30 ? drift(i) : 1);
      const v = map(noise, (z, i) => normal(i) * creep(i) * Math.exp(z + blips[i]!));
      return { values: v, impact };
    },
  },
  "pool-exhaustion": {
    stream: "db_connections_in_use",
    unit: "connections",
    kind: "leak",
    description: "connections not returned to the pool after an error path; the pool runs dry",
    build: (b, load, start, hours) => {
      const rng = b.fork("pool-sim");
      const max = 200;
      const used = new Float64Array(b.n);
      for (let i = 0; i < b.n; i++) used[i] = rng.poisson(20 + 60 * load[i]!);
      const headroom = max - (used[start] ?? 0);
      const rate = headroom / (hours * 60);
      const v = new Float64Array(b.n);
      let leaked = 0;
      let dry = -1;
      for (let i = 0; i < b.n; i++) {
        if (dry >= 0 && i === dry + 10) leaked = 0; // the service is restarted
        if (b.inject && i >= start && dry < 0) leaked += rate;
        v[i] = Math.min(max, Math.round(used[i]! + leaked));
        if (b.inject && dry < 0 && i >= start && v[i]! >= max) dry = i;
      }
      return { values: v, impact: dry >= 0 ? dry : b.n - 1 };
    },
  },
};

export function slowIncidentScenario(kind: SlowIncidentKind, opts: BuildOptions): Scenario {
  const inc = INCIDENTS[kind];
  const b = new ScenarioBuilder(
    { name: `slow-${kind}`, description: `${inc.stream}: ${inc.description}; CPU % and request rate stay normal`, stepMs: MIN, days: 7, leadInDays: 3 },
    opts,
  );
  const load = traffic(b.timestampsMs, { peak: 1, troughRatio: 0.25, weekendFactor: 0.75 });
  const start = b.randomIndex(b.rng.int(3, 4), 0, 24);
  const hours = b.rng.uniform(3, 10);
  const { values, impact } = inc.build(b, load, start, hours);
  b.label(start, impact, inc.kind, [inc.stream], `${inc.description} (harm at ${new Date(b.t(impact)).toISOString()})`, b.t(impact));
  b.addStream(inc.stream, inc.unit, "gauge", values);
  b.addStream("cpu_percent", "%", "gauge", add(map(load, (l) => 12 + 45 * l), ar1Noise(b.fork("cpu"), b.n, 2, 0.8)));
  const rateNoise = ar1Noise(b.fork("rate"), b.n, 0.05, 0.5);
  b.addStream("request_rate", "req/s", "gauge", map(load, (l, i) => 800 * l * Math.exp(rateNoise[i]!)));
  return b.build();
}

/** Every kind once per seed: `seeds.length × 5` incidents. */
export function generateSlowIncidents(seeds: readonly number[]): Scenario[] {
  return seeds.flatMap((seed) => SLOW_INCIDENT_KINDS.map((k) => slowIncidentScenario(k, { seed, inject: true })));
}

/**
 * Scenario definitions, part B: multi-stream services (cascades, counters, event counts,
 * outages, a persistent regime change, weekly seasonality, variance change, a quiet week).
 */
import { ScenarioBuilder, type BuildOptions } from "./builder";
import {
  add,
  addBump,
  applyMask,
  ar1Noise,
  clamp,
  cumulate,
  envelope,
  heavyTailBlips,
  map,
  scaleBump,
  scrapeGapMask,
  traffic,
} from "./signals";
import type { Rng } from "./rng";
import type { Scenario } from "./types";

const MIN = 60_000;

function counts(rng: Rng, lambda: Float64Array): Float64Array {
  return map(lambda, (l) => rng.poisson(Math.max(0, l)));
}

function lagged(a: Float64Array, lag: number, fill: number): Float64Array {
  return map(a, (_v, i) => (i - lag >= 0 ? (a[i - lag] ?? fill) : fill));
}

/** Checkout service: DB → API latency → errors → retries, two cascades and one isolated burst. */
export function checkoutCascade(opts: BuildOptions): Scenario {
  const b = new ScenarioBuilder(
    {
      name: "checkout-cascade",
      description:
        "Checkout service, 4 correlated streams sharing the traffic pattern: DB latency moves first, API latency follows 2–4 min later, errors and client retries 5–7 min later",
      stepMs: MIN,
      days: 14,
      leadInDays: 5,
    },
    opts,
  );
  const load = traffic(b.timestampsMs, { peak: 1, troughRatio: 0.15, weekendFactor: 0.75, growthPerDay: 0.003 });
  const dbMult = new Float64Array(b.n).fill(1);
  const errBoost = new Float64Array(b.n).fill(1);

  const big = b.randomIndex(7, 11, 17);
  const bigLen = b.rows(b.rng.uniform(20, 30));
  const small = b.randomIndex(11, 9, 19);
  const smallLen = b.rows(b.rng.uniform(12, 18));
  const apiLag = b.rows(b.rng.uniform(2, 4));
  const errLag = b.rows(b.rng.uniform(5, 7));
  const flag = b.randomIndex(12, 14, 21);
  const flagLen = b.rows(b.rng.uniform(8, 12));
  b.apply(() => {
    scaleBump(dbMult, big, big + bigLen - 1, 8, 3, 4);
    scaleBump(dbMult, small, small + smallLen - 1, 3, 2, 3);
    scaleBump(errBoost, flag, flag + flagLen - 1, 6, 1, 1);
  });
  const lastAffected = (start: number, len: number): number => start + len - 1 + errLag;
  b.label(big, lastAffected(big, bigLen), "cascade", ["db_latency_ms", "api_latency_ms", "error_count", "request_rate"], "DB lock contention → API latency → timeouts → retries");
  b.label(small, lastAffected(small, smallLen), "cascade", ["db_latency_ms", "api_latency_ms", "error_count", "request_rate"], "smaller DB slowdown cascading");
  b.label(flag, flag + flagLen - 1, "burst", ["error_count"], "bad feature flag: errors only");

  const apiMult = lagged(dbMult, apiLag, 1);
  const errMult = lagged(dbMult, errLag, 1);
  const dbNoise = ar1Noise(b.fork("db-noise"), b.n, 0.12, 0.6);
  const dbBlips = heavyTailBlips(b.fork("db-blips"), b.n, 1 / 700, 0.12, "up");
  const db = map(load, (v, i) => (3 + 5 * v * v) * (dbMult[i] ?? 1) * Math.exp((dbNoise[i] ?? 0) + (dbBlips[i] ?? 0)));
  const dbClean = map(load, (v) => 3 + 5 * v * v);
  const apiNoise = ar1Noise(b.fork("api-noise"), b.n, 0.06, 0.7);
  const apiBlips = heavyTailBlips(b.fork("api-blips"), b.n, 1 / 800, 0.06, "up");
  const api = map(load, (v, i) => {
    const dbPart = 4 * (dbClean[i] ?? 0) * (apiMult[i] ?? 1);
    return (35 + 25 * v + dbPart) * Math.exp((apiNoise[i] ?? 0) + (apiBlips[i] ?? 0));
  });
  // Timeouts grow with the (lagged) DB slowdown; clients retry, so the request rate rises.
  const timeoutFactor = map(errMult, (m) => 1 + 1.6 * (m - 1));
  const reqNoise = ar1Noise(b.fork("req-noise"), b.n, 0.025, 0.85);
  const req = map(load, (v, i) => 820 * v * (1 + 0.04 * ((timeoutFactor[i] ?? 1) - 1)) * Math.exp(reqNoise[i] ?? 0));
  const errLambda = map(req, (r, i) => r * 60 * 0.0004 * (timeoutFactor[i] ?? 1) * (errBoost[i] ?? 1));
  const errors = counts(b.fork("errors"), errLambda);
  const errBlips = heavyTailBlips(b.fork("err-blips"), b.n, 1 / 1000, 3, "up");
  for (let i = 0; i < b.n; i++) errors[i] = (errors[i] ?? 0) + Math.round(errBlips[i] ?? 0);

  const gaps = scrapeGapMask(b.fork("gaps"), b.n, 1 / 3000, 2);
  for (const s of [req, db, api, errors]) applyMask(s, gaps);
  b.addStream("request_rate", "req/s", "gauge", req);
  b.addStream("db_latency_ms", "ms", "gauge", db);
  b.addStream("api_latency_ms", "ms", "gauge", api);
  b.addStream("error_count", "errors/min", "count", errors);
  return b.build();
}

/** Prometheus-style cumulative counters with a normal deploy reset inside the eval period. */
export function httpCounters(opts: BuildOptions): Scenario {
  const b = new ScenarioBuilder(
    {
      name: "http-counters",
      description:
        "Raw cumulative counters (http_requests_total, http_errors_5xx_total) that reset to 0 on two normal deploy restarts; a 5xx surge, a traffic drop, a smaller error burst",
      stepMs: MIN,
      days: 7,
      leadInDays: 2,
    },
    opts,
  );
  const load = traffic(b.timestampsMs, { peak: 1, troughRatio: 0.18, weekendFactor: 0.7 });
  const rateMult = new Float64Array(b.n).fill(1);
  const errRatio = new Float64Array(b.n).fill(0.002);
  const surge = b.randomIndex(3, 14, 18);
  const surgeLen = b.rows(b.rng.uniform(15, 25));
  const drop = b.randomIndex(5, 9, 12);
  const dropLen = b.rows(b.rng.uniform(30, 45));
  const burst = b.randomIndex(6, 18, 21);
  const burstLen = b.rows(b.rng.uniform(10, 14));
  b.apply(() => {
    addBump(errRatio, surge, surge + surgeLen - 1, 0.058, 2, 2);
    scaleBump(rateMult, drop, drop + dropLen - 1, 0.35, 1, 2);
    scaleBump(errRatio, burst, burst + burstLen - 1, 8, 1, 1);
  });
  b.label(surge, surge + surgeLen - 1, "burst", ["http_errors_5xx_total"], "5xx ratio 0.2 % → 6 %");
  b.label(drop, drop + dropLen - 1, "drop", ["http_requests_total"], "traffic −65 %: upstream load balancer misrouting");
  b.label(burst, burst + burstLen - 1, "burst", ["http_errors_5xx_total"], "5xx ×8 on Sunday evening");

  const noise = ar1Noise(b.fork("noise"), b.n, 0.03, 0.85);
  const rate = map(load, (v, i) => 350 * v * (rateMult[i] ?? 1) * Math.exp(noise[i] ?? 0));
  const reqInc = counts(b.fork("req"), map(rate, (r) => r * 60));
  const errRng = b.fork("err");
  const errInc = map(reqInc, (n, i) => errRng.poisson(n * (errRatio[i] ?? 0)));
  const resets = [b.index(1, 14), b.index(4, 11)]; // deploy restarts: normal
  const reqTotal = cumulate(reqInc, resets, 18_734_112);
  const errTotal = cumulate(errInc, resets, 40_212);
  const gaps = scrapeGapMask(b.fork("gaps"), b.n, 1 / 2000, 3);
  applyMask(reqTotal, gaps);
  applyMask(errTotal, gaps);
  b.addStream("http_requests_total", "requests", "counter", reqTotal);
  b.addStream("http_errors_5xx_total", "errors", "counter", errTotal);
  return b.build();
}

/** Sparse event counts: login failures per minute, mostly 0–3, single-user retry storms normal. */
export function authFailureBursts(opts: BuildOptions): Scenario {
  const b = new ScenarioBuilder(
    {
      name: "auth-failure-bursts",
      description:
        "Logins and auth failures per minute (sparse Poisson counts, many zeros; one user retrying in a loop is normal); credential stuffing at night, an IdP degradation (ratio ×4), a short burst",
      stepMs: MIN,
      days: 7,
      leadInDays: 2,
    },
    opts,
  );
  const load = traffic(b.timestampsMs, { peak: 1, troughRatio: 0.1, weekendFactor: 0.6 });
  const loginExtra = new Float64Array(b.n);
  const failExtra = new Float64Array(b.n);
  const ratio = new Float64Array(b.n).fill(0.02);
  const stuffing = b.randomIndex(3, 1, 4);
  const stuffingLen = b.rows(b.rng.uniform(25, 35));
  const idp = b.randomIndex(5, 13, 16);
  const idpLen = b.rows(b.rng.uniform(50, 70));
  const short = b.randomIndex(6, 9, 20);
  const shortLen = b.rows(b.rng.uniform(6, 10));
  b.apply(() => {
    addBump(loginExtra, stuffing, stuffing + stuffingLen - 1, 60, 2, 2);
    addBump(failExtra, stuffing, stuffing + stuffingLen - 1, 58, 2, 2);
    scaleBump(ratio, idp, idp + idpLen - 1, 4, 3, 3);
    addBump(failExtra, short, short + shortLen - 1, 22, 1, 1);
  });
  b.label(stuffing, stuffing + stuffingLen - 1, "burst", ["auth_failures", "login_attempts"], "credential stuffing at night");
  b.label(idp, idp + idpLen - 1, "burst", ["auth_failures"], "identity provider degraded: failure ratio ×4");
  b.label(short, short + shortLen - 1, "burst", ["auth_failures"], "short failure burst");

  const loginLambda = map(load, (v, i) => 120 * v + (loginExtra[i] ?? 0));
  const logins = counts(b.fork("logins"), loginLambda);
  const failRng = b.fork("fails");
  const fails = map(load, (v, i) => failRng.poisson(120 * v * (ratio[i] ?? 0) + (failExtra[i] ?? 0)));
  const retry = heavyTailBlips(b.fork("retry-loop"), b.n, 1 / 700, 2, "up"); // one user, 6–30 failures
  for (let i = 0; i < b.n; i++) fails[i] = (fails[i] ?? 0) + Math.round(retry[i] ?? 0);
  b.addStream("login_attempts", "per minute", "count", logins);
  b.addStream("auth_failures", "per minute", "count", fails);
  return b.build();
}

/** A deploy permanently raises CPU and latency: only the first hour is labelled. */
export function deployRegimeChange(opts: BuildOptions): Scenario {
  const b = new ScenarioBuilder(
    {
      name: "deploy-regime-change",
      description:
        "CPU % and p50 latency; a deploy raises CPU by ~14 pp and latency by ~20 % for good. Only the first hour is anomalous, then it is the new normal (adaptation time). An earlier latency spike.",
      stepMs: MIN,
      days: 14,
      leadInDays: 5,
    },
    opts,
  );
  const load = traffic(b.timestampsMs, { peak: 1, troughRatio: 0.2, weekendFactor: 0.7 });
  const cpuShift = new Float64Array(b.n);
  const latMult = new Float64Array(b.n).fill(1);
  const spike = b.randomIndex(6, 10, 18);
  const spikeLen = b.rows(b.rng.uniform(8, 14));
  const deploy = b.randomIndex(8, 10, 14);
  const windowLen = b.rows(60);
  const cpuDelta = b.rng.uniform(12, 16);
  const latDelta = b.rng.uniform(1.17, 1.23);
  b.apply(() => {
    scaleBump(latMult, spike, spike + spikeLen - 1, 2.5, 1, 2);
    for (let i = deploy; i < b.n; i++) {
      const ramp = Math.min(1, (i - deploy + 1) / 3);
      cpuShift[i] = cpuDelta * ramp;
      latMult[i] = 1 + (latDelta - 1) * ramp;
    }
  });
  b.label(spike, spike + spikeLen - 1, "spike", ["p50_latency_ms"], "latency spike (slow downstream)");
  b.label(deploy, deploy + windowLen - 1, "regime-change", ["cpu_percent", "p50_latency_ms"], "deploy: new serializer costs CPU and latency, kept");
  b.regimeChange(deploy, deploy + windowLen - 1, ["cpu_percent", "p50_latency_ms"]);
  b.markAftermath(deploy + windowLen, b.n - 1, "new normal after the deploy");

  const cpu = add(
    map(load, (v, i) => 15 + 40 * v + (cpuShift[i] ?? 0)),
    ar1Noise(b.fork("cpu-noise"), b.n, 2, 0.8),
    heavyTailBlips(b.fork("cpu-blips"), b.n, 1 / 800, 2),
  );
  clamp(cpu, 0, 100);
  const latNoise = ar1Noise(b.fork("lat-noise"), b.n, 0.05, 0.7);
  const latBlips = heavyTailBlips(b.fork("lat-blips"), b.n, 1 / 600, 0.05, "up");
  const lat = map(load, (v, i) => (22 + 10 * v) * (latMult[i] ?? 1) * Math.exp((latNoise[i] ?? 0) + (latBlips[i] ?? 0)));
  const gaps = scrapeGapMask(b.fork("gaps"), b.n, 1 / 3000, 2);
  applyMask(cpu, gaps);
  applyMask(lat, gaps);
  b.addStream("cpu_percent", "percent", "gauge", cpu);
  b.addStream("p50_latency_ms", "ms", "gauge", lat);
  return b.build();
}

/** One host of a pool goes dark; later its exporter alone disappears. */
export function hostOutage(opts: BuildOptions): Scenario {
  const b = new ScenarioBuilder(
    {
      name: "host-outage",
      description:
        "Host web-3 (CPU, memory) and its pool (request rate, errors): normal scrape gaps; the host crashes (metrics vanish, pool errors spike until health checks eject it, cold restart), later its exporter alone goes silent",
      stepMs: MIN,
      days: 7,
      leadInDays: 2,
    },
    opts,
  );
  const GB = 1024 ** 3;
  const load = traffic(b.timestampsMs, { peak: 1, troughRatio: 0.2, weekendFactor: 0.7 });
  const crash = b.randomIndex(4, 9, 17);
  const crashLen = b.rows(b.rng.uniform(35, 50));
  const boot = b.rows(4);
  const silent = b.randomIndex(6, 6, 20);
  const silentLen = b.rows(b.rng.uniform(12, 20));

  const cpu = add(
    map(load, (v) => 8 + 45 * v),
    ar1Noise(b.fork("cpu-noise"), b.n, 2.5, 0.75),
    heavyTailBlips(b.fork("cpu-blips"), b.n, 1 / 700, 2.5),
  );
  const memNoise = ar1Noise(b.fork("mem-noise"), b.n, 0.02 * GB, 0.95);
  const warmup = (i: number, restartAt: number): number => (i < restartAt ? 1 : 1 - Math.exp(-(i - restartAt) / 100));
  const mem = map(load, (v, i) => {
    const restart = b.inject && i >= crash + crashLen ? crash + crashLen : 0;
    return 2.1 * GB + 0.9 * GB * warmup(i, restart) + 0.3 * GB * v + (memNoise[i] ?? 0);
  });
  const poolReq = map(load, (v) => 1200 * v);
  const reqNoise = ar1Noise(b.fork("req-noise"), b.n, 0.025, 0.85);
  const errLambda = map(poolReq, (r) => r * 60 * 0.0003);
  b.apply(() => {
    for (let i = crash; i < crash + crashLen; i++) {
      cpu[i] = Number.NaN;
      mem[i] = Number.NaN;
    }
    addBump(cpu, crash + crashLen, crash + crashLen + boot - 1, 35, 1, 2); // JIT warm-up on boot
    addBump(errLambda, crash, crash + b.rows(3), 40, 1, 1); // in-flight requests dropped
    scaleBump(poolReq, crash, crash + b.rows(2), 0.8, 1, 1);
    for (let i = silent; i < silent + silentLen; i++) {
      cpu[i] = Number.NaN;
      mem[i] = Number.NaN;
    }
  });
  b.label(crash, crash + crashLen + boot - 1, "outage", ["node_cpu_percent", "node_memory_used_bytes", "pool_error_count"], "web-3 crashed: no metrics, pool errors until ejected, cold boot");
  b.label(silent, silent + silentLen - 1, "outage", ["node_cpu_percent", "node_memory_used_bytes"], "web-3 exporter silent (host itself fine): monitoring blind spot");
  b.markAftermath(crash + crashLen + boot, b.n - 1, "memory warming up after the cold boot");

  const req = map(poolReq, (r, i) => r * Math.exp(reqNoise[i] ?? 0));
  const errors = counts(b.fork("errors"), errLambda);
  clamp(cpu, 0, 100);
  for (let i = 0; i < b.n; i++) mem[i] = Math.round(mem[i] ?? Number.NaN); // bytes are integers
  const gaps = scrapeGapMask(b.fork("gaps"), b.n, 1 / 600, 3); // a flaky exporter: ~2–3 short gaps a day
  applyMask(cpu, gaps);
  applyMask(mem, gaps);
  b.addStream("node_cpu_percent", "percent", "gauge", cpu);
  b.addStream("node_memory_used_bytes", "bytes", "gauge", mem);
  b.addStream("pool_request_rate", "req/s", "gauge", req);
  b.addStream("pool_error_count", "errors/min", "count", errors);
  return b.build();
}

/** Three weeks of request rate at 5-min steps; week 3 holds contextual anomalies. */
export function weeklySeasonalTraffic(opts: BuildOptions): Scenario {
  const b = new ScenarioBuilder(
    {
      name: "weekly-seasonal-traffic",
      description:
        "Front-door request rate at 5-min steps over 3 weeks; weekends at 45 % of weekdays. Week 3: a regional drop, a night-time surge and a Saturday with weekday traffic (contextual: values normal for a Tuesday)",
      stepMs: 5 * MIN,
      days: 21,
      leadInDays: 14,
    },
    opts,
  );
  const load = traffic(b.timestampsMs, { peak: 1, troughRatio: 0.18, weekendFactor: 0.45, growthPerDay: 0.002 });
  const mult = new Float64Array(b.n).fill(1);
  const drop = b.randomIndex(15, 11, 16);
  const dropLen = b.rows(b.rng.uniform(100, 140));
  const night = b.randomIndex(17, 1.5, 3.5);
  const nightLen = b.rows(b.rng.uniform(75, 105));
  const saturday = b.index(19, 8);
  const saturdayEnd = b.index(19, 19);
  b.apply(() => {
    scaleBump(mult, drop, drop + dropLen - 1, 0.5, 1, 2);
    scaleBump(mult, night, night + nightLen - 1, 2.6, 2, 2);
    scaleBump(mult, saturday, saturdayEnd, 1 / 0.45, 12, 12);
  });
  b.label(drop, drop + dropLen - 1, "drop", ["request_rate"], "regional DNS failure: half the traffic gone");
  b.label(night, night + nightLen - 1, "contextual", ["request_rate"], "misconfigured batch client at night (daytime-like volume)");
  b.label(saturday, saturdayEnd, "contextual", ["request_rate"], "Saturday with weekday traffic (campaign / bot), normal for a weekday");

  const noise = ar1Noise(b.fork("noise"), b.n, 0.035, 0.7);
  const blips = heavyTailBlips(b.fork("blips"), b.n, 1 / 300, 0.035);
  const req = map(load, (v, i) => 2400 * v * (mult[i] ?? 1) * Math.exp((noise[i] ?? 0) + (blips[i] ?? 0)));
  applyMask(req, scrapeGapMask(b.fork("gaps"), b.n, 1 / 800, 2));
  b.addStream("request_rate", "req/s", "gauge", req);
  return b.build();
}

/** A normal week, nothing to find: measures false alarms per day. */
export function quietWeekHeavyTails(opts: BuildOptions): Scenario {
  const b = new ScenarioBuilder(
    {
      name: "quiet-week-heavy-tails",
      description:
        "A normal week with no anomalies: heavy-tailed latency, sparse error counts, an hourly cron, a weekend dip, a routine deploy blip, scrape gaps. Any alert here is a false alarm.",
      stepMs: MIN,
      days: 7,
      leadInDays: 2,
    },
    opts,
  );
  const load = traffic(b.timestampsMs, { peak: 1, troughRatio: 0.2, weekendFactor: 0.6 });
  const cpu = add(
    map(load, (v) => 12 + 45 * v),
    ar1Noise(b.fork("cpu-noise"), b.n, 2.5, 0.8),
    heavyTailBlips(b.fork("cpu-blips"), b.n, 1 / 400, 2.5),
  );
  for (let h = 0; h < 7 * 24; h++) {
    const i = b.index(0, h + 0.25);
    addBump(cpu, i, i + b.rows(3), 12, 1, 1); // hourly cron at :15
  }
  const deploy = b.index(3, 15.5);
  addBump(cpu, deploy, deploy + b.rows(6), 18, 1, 3); // routine deploy: brief restart cost
  clamp(cpu, 0, 100);
  const latNoise = ar1Noise(b.fork("lat-noise"), b.n, 0.08, 0.6);
  const latBlips = heavyTailBlips(b.fork("lat-blips"), b.n, 1 / 250, 0.08, "up");
  const lat = map(load, (v, i) => (60 + 50 * v) * Math.exp((latNoise[i] ?? 0) + (latBlips[i] ?? 0)));
  const errors = counts(b.fork("errors"), map(load, (v) => 0.3 + 2.5 * v));
  const errBlips = heavyTailBlips(b.fork("err-blips"), b.n, 1 / 900, 2, "up");
  for (let i = 0; i < b.n; i++) errors[i] = (errors[i] ?? 0) + Math.round(errBlips[i] ?? 0);
  const gaps = scrapeGapMask(b.fork("gaps"), b.n, 1 / 1200, 3);
  applyMask(cpu, gaps);
  applyMask(lat, gaps);
  applyMask(errors, gaps);
  b.addStream("cpu_percent", "percent", "gauge", cpu);
  b.addStream("p99_latency_ms", "ms", "gauge", lat);
  b.addStream("error_count", "errors/min", "count", errors);
  return b.build();
}

/** Latency jitter: the mean barely moves, the variance does. */
export function networkJitter(opts: BuildOptions): Scenario {
  const b = new ScenarioBuilder(
    {
      name: "network-jitter",
      description:
        "p99 latency and TCP retransmits: two episodes of packet loss where variance explodes but the median barely moves (retransmits rise modestly)",
      stepMs: MIN,
      days: 10,
      leadInDays: 3,
    },
    opts,
  );
  const load = traffic(b.timestampsMs, { peak: 1, troughRatio: 0.25, weekendFactor: 0.7 });
  const sigma = new Float64Array(b.n).fill(1);
  const retransMult = new Float64Array(b.n).fill(1);
  const first = b.randomIndex(6, 8, 14);
  const firstLen = b.rows(b.rng.uniform(150, 210));
  const second = b.randomIndex(8, 15, 21);
  const secondLen = b.rows(b.rng.uniform(30, 50));
  b.apply(() => {
    for (let i = first; i < first + firstLen; i++) {
      sigma[i] = 4;
      retransMult[i] = 2.2;
    }
    for (let i = second; i < second + secondLen; i++) {
      sigma[i] = 6;
      retransMult[i] = 3;
    }
  });
  b.label(first, first + firstLen - 1, "variance", ["p99_latency_ms", "tcp_retransmits"], "packet loss on a top-of-rack switch");
  b.label(second, second + secondLen - 1, "variance", ["p99_latency_ms", "tcp_retransmits"], "flapping link");

  const noiseRng = b.fork("noise");
  const blips = heavyTailBlips(b.fork("blips"), b.n, 1 / 500, 0.06, "up");
  const lat = map(load, (v, i) => {
    const z = noiseRng.gaussian();
    const s = 0.06 * (sigma[i] ?? 1);
    // Lognormal with the median kept: jitter mostly adds upward excursions, mean shifts a little.
    return (80 + 40 * v) * Math.exp(s * z + (blips[i] ?? 0));
  });
  const retrans = counts(b.fork("retrans"), map(load, (v, i) => (2 + 10 * v) * (retransMult[i] ?? 1)));
  const gaps = scrapeGapMask(b.fork("gaps"), b.n, 1 / 2500, 2);
  applyMask(lat, gaps);
  applyMask(retrans, gaps);
  b.addStream("p99_latency_ms", "ms", "gauge", lat);
  b.addStream("tcp_retransmits", "per minute", "count", retrans);
  return b.build();
}


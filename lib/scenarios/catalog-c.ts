/**
 * Scenario definitions, part C: single-sample outliers and a stuck sensor.
 * Positions and magnitudes are drawn from the placement RNG, so another seed moves them.
 */
import { ScenarioBuilder, type BuildOptions } from "./builder";
import { add, applyMask, ar1Noise, heavyTailBlips, map, scrapeGapMask, traffic } from "./signals";
import type { Scenario } from "./types";

const MIN = 60_000;

/**
 * Latency and an inlet-temperature sensor with the usual heavy-tail blips (3–10σ, normal) plus
 * labelled single-row extreme outliers (15–40σ: a corrupted sample, a stuck request, a sensor
 * glitch) and a temperature sensor that freezes at its last reading for 2–4 h.
 */
export function singlePointOutliers(opts: BuildOptions): Scenario {
  const b = new ScenarioBuilder(
    {
      name: "single-point-outliers",
      description:
        "p50 latency + inlet temperature, 1-min: heavy-tail blips of 3–10σ are normal; seven labelled one-sample outliers of 15–40σ and a sensor stuck at one value for 2–4 h",
      stepMs: MIN,
      days: 8,
      leadInDays: 2,
    },
    opts,
  );
  const load = traffic(b.timestampsMs, { peak: 1, troughRatio: 0.25, weekendFactor: 0.7 });
  const latSigma = 1.5;
  const lat = add(
    map(load, (v) => 40 + 25 * v),
    ar1Noise(b.fork("lat-noise"), b.n, latSigma, 0.7),
    heavyTailBlips(b.fork("lat-blips"), b.n, 1 / 500, latSigma, "up"),
  );
  const tSigma = 0.3;
  const temp = add(
    map(load, (v) => 24 + 3 * v),
    ar1Noise(b.fork("temp-noise"), b.n, tSigma, 0.9),
    heavyTailBlips(b.fork("temp-blips"), b.n, 1 / 700, tSigma),
  );

  // one-sample outliers: [stream, day, hour range]
  const plan: [0 | 1, number, number, number][] = [
    [0, 2, 0, 11],
    [1, 2, 13, 23],
    [0, 3, 1, 23],
    [1, 4, 1, 23],
    [0, 5, 1, 23],
    [0, 6, 0, 10],
    [1, 7, 1, 23],
  ];
  const spikes = plan.map(([s, d, h0, h1]) => {
    const i = b.randomIndex(d, h0, h1);
    const mag = b.rng.uniform(15, 40);
    const sign = s === 1 && b.rng.next() < 0.4 ? -1 : 1;
    return { s, i, delta: sign * mag * (s === 0 ? latSigma : tSigma), mag };
  });
  const stuck = b.randomIndex(6, 13, 16);
  const stuckLen = b.rows(b.rng.uniform(120, 240));
  const round2 = (v: number): number => Math.round(v * 100) / 100;
  for (let i = 0; i < b.n; i++) temp[i] = round2(temp[i] ?? 0);
  b.apply(() => {
    for (const p of spikes) {
      const v = p.s === 0 ? lat : temp;
      v[p.i] = (v[p.i] ?? 0) + p.delta;
    }
    const frozen = temp[stuck - 1] ?? 0;
    for (let i = stuck; i < stuck + stuckLen; i++) temp[i] = frozen;
  });
  for (const p of spikes) {
    const name = p.s === 0 ? "p50_latency_ms" : "inlet_temperature_c";
    b.label(p.i, p.i, "spike", [name], `one-sample outlier of ${p.mag.toFixed(0)}σ`);
  }
  b.label(stuck, stuck + stuckLen - 1, "flatline", ["inlet_temperature_c"], "sensor stuck at its last reading");

  // scrape gaps never hide a labelled sample (drawn the same way with or without injection)
  const latGaps = scrapeGapMask(b.fork("lat-gaps"), b.n, 1 / 2000, 3);
  const tempGaps = scrapeGapMask(b.fork("temp-gaps"), b.n, 1 / 2000, 3);
  for (const p of spikes) (p.s === 0 ? latGaps : tempGaps)[p.i] = 0;
  tempGaps.fill(0, stuck, stuck + stuckLen);
  applyMask(lat, latGaps);
  applyMask(temp, tempGaps);
  b.addStream("p50_latency_ms", "ms", "gauge", lat);
  b.addStream("inlet_temperature_c", "celsius", "gauge", temp);
  return b.build();
}

/** Pure time-axis helpers for the stream chart: ticks that never repeat a label. */

const MIN = 60_000;
const H = 60 * MIN;
const D = 24 * H;
const STEPS = [MIN, 2 * MIN, 5 * MIN, 10 * MIN, 15 * MIN, 30 * MIN, H, 2 * H, 3 * H, 6 * H, 12 * H, D, 2 * D, 7 * D, 14 * D, 30 * D, 91 * D, 365 * D];

export interface TimeTicks {
  ticks: number[];
  format: (t: number) => string;
}

const pad = (n: number) => String(n).padStart(2, "0");

/**
 * At most `maxTicks` ticks on round local times. Labels: dates for day-sized steps, clock times
 * otherwise (with the date on every tick past a day's span, else on the first tick of a new day), so a 7-day axis reads "Nov 29",
 * "Nov 30"… and never "Nov 29" three times. `tzOffsetMin` is minutes east of UTC (tests fix it).
 */
export function timeTicks(fromMs: number, toMs: number, maxTicks = 8, tzOffsetMin = -new Date(fromMs).getTimezoneOffset()): TimeTicks {
  const span = Math.max(1, toMs - fromMs);
  const step = STEPS.find((s) => span / s <= maxTicks) ?? Math.ceil(span / maxTicks / D) * D;
  const off = tzOffsetMin * MIN;
  const ticks: number[] = [];
  for (let t = Math.ceil((fromMs + off) / step) * step - off; t <= toMs && ticks.length <= maxTicks + 1; t += step) ticks.push(t);
  const local = (t: number) => new Date(t + off);
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const date = (d: Date) => `${months[d.getUTCMonth()]} ${d.getUTCDate()}`;
  const withYear = span > 180 * D;
  const dayKey = (t: number) => Math.floor((t + off) / D);
  const firstOfDay = new Set<number>();
  let prev = Number.NaN;
  for (const t of ticks) {
    if (dayKey(t) !== prev) firstOfDay.add(t);
    prev = dayKey(t);
  }
  const format = (t: number) => {
    const d = local(t);
    if (step >= D) return withYear ? `${date(d)} ${d.getUTCFullYear()}` : date(d);
    const clock = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
    // Over a day the same clock time comes back: every tick then says its date.
    if (span >= D) return `${date(d)} ${clock}`;
    return firstOfDay.has(t) && span > 12 * H ? `${date(d)} ${clock}` : clock;
  };
  return { ticks, format };
}

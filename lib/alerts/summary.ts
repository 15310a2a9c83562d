/**
 * The engine writes summaries like "point anomaly on 57: robust-z 5.1σ; expected 12 [-3.00e+6,
 * 4.71e+6], actual 80" (57 is its stream id). People read them in alerts and on pages, so the
 * stream is named and the expected range is clipped to the metric's domain.
 */
export function readableSummary(summary: string, s: { streamId: number; streamKey: string; floor: number }): string {
  let out = summary.replace(new RegExp(`^(\\w+ anomaly on )${s.streamId}(?=:|$)`), `$1${s.streamKey.replace(/\$/g, "$$$$")}`);
  if (s.floor > -Infinity) {
    out = out.replace(/expected (\S+) \[(\S+), (\S+)\]/, (whole, e: string, lo: string, hi: string) => {
      const clip = (t: string) => {
        const v = Number(t.replace(/\u2212/g, "-"));
        return Number.isFinite(v) && v < s.floor ? String(s.floor) : t;
      };
      return `expected ${clip(e)} [${clip(lo)}, ${clip(hi)}]`;
    });
  }
  return out;
}

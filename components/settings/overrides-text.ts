/**
 * Settings overrides in words for the backtest line ("sensitivity 0.5 · severity.high 90"), not
 * as JSON: nested objects become dotted names, lists their length.
 */
export function overridesText(overrides: Record<string, unknown>): string {
  const parts: string[] = [];
  const walk = (prefix: string, v: unknown): void => {
    if (v === undefined) return;
    if (Array.isArray(v)) parts.push(`${prefix}: ${v.length}`);
    else if (v !== null && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(`${prefix}.${k}`, x);
    else parts.push(`${prefix} ${String(v)}`);
  };
  for (const [k, v] of Object.entries(overrides)) walk(k, v);
  return parts.length ? parts.join(" · ") : "none (same as the current settings)";
}

"use client";
import { Line, LineChart, ResponsiveContainer, YAxis } from "recharts";

/** A tiny line without axes; `domain` lets score sparklines share a fixed 0–100 scale. */
export function Sparkline({
  points,
  color = "var(--line)",
  height = 36,
  domain,
  label,
}: {
  points: { t: number; v: number | null }[];
  color?: string;
  height?: number;
  domain?: [number, number];
  label: string;
}) {
  return (
    <div role="img" aria-label={label} style={{ width: "100%", height }} data-testid="sparkline">
      <ResponsiveContainer width="100%" height="100%">
        <LineChart data={points} margin={{ top: 2, right: 0, bottom: 2, left: 0 }}>
          <YAxis hide domain={domain ?? ["auto", "auto"]} />
          <Line type="monotone" dataKey="v" stroke={color} dot={false} strokeWidth={1.5} isAnimationActive={false} connectNulls={false} />
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}

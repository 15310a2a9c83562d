"use client";
import { Area, CartesianGrid, ComposedChart, Line, ReferenceArea, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { useState } from "react";
import { formatTick, formatValue, type ChartRow } from "@/components/charts/chart-data";
import { timeTicks } from "@/components/charts/time-axis";

export interface ChartMarker {
  id: string;
  startMs: number;
  endMs: number;
  severity: "low" | "medium" | "high";
}

const TOOLTIP_STYLE = { background: "var(--panel)", border: "1px solid var(--border)", color: "var(--text)", fontSize: 12, padding: "6px 10px" };
const NAMES: Record<string, string> = { v: "value", expected: "expected", band: "expected range", forecast: "forecast", forecastBand: "forecast range", score: "anomaly score" };

/** recharts' mouse events carry the x value under the pointer as `activeLabel`. */
type ChartMouse = { activeLabel?: string | number } | null | undefined;
const xOf = (e: ChartMouse) => (e && e.activeLabel !== undefined ? Number(e.activeLabel) : null);

/** Value with expected band and anomaly markers, above a 0–100 anomaly-score lane. */
export function StreamChart({
  rows,
  markers,
  fromMs,
  toMs,
  unit,
  onZoom,
  labelled = [],
}: {
  rows: ChartRow[];
  markers: ChartMarker[];
  /** ground-truth ranges (known anomalies, e.g. an imported is_anomaly column) */
  labelled?: { startMs: number; endMs: number }[];
  fromMs: number;
  toMs: number;
  unit: string | null;
  /** Drag across the value chart to pick a range (absent: no zoom). */
  onZoom?: (fromMs: number, toMs: number) => void;
}) {
  const lastT = rows.length ? rows[rows.length - 1]!.t : toMs;
  const domain: [number, number] = [fromMs, Math.max(toMs, lastT)];
  const { ticks, format: fmt } = timeTicks(domain[0], domain[1]);
  const [drag, setDrag] = useState<{ a: number; b: number } | null>(null);
  const zoomHandlers = onZoom
    ? {
        onMouseDown: (e: ChartMouse) => {
          const x = xOf(e);
          if (x !== null) setDrag({ a: x, b: x });
        },
        onMouseMove: (e: ChartMouse) => {
          const x = xOf(e);
          if (drag && x !== null) setDrag({ ...drag, b: x });
        },
        onMouseUp: () => {
          if (drag && Math.abs(drag.b - drag.a) > 0) onZoom(Math.min(drag.a, drag.b), Math.max(drag.a, drag.b));
          setDrag(null);
        },
        onMouseLeave: () => setDrag(null),
      }
    : {};
  const hasForecast = rows.some((r) => r.forecast !== undefined && r.forecast !== null);
  return (
    <div>
      <div style={{ width: "100%", height: 320 }} role="img" aria-label="Value chart with expected band" data-testid="value-chart">
        <ResponsiveContainer width="100%" height="100%">
          <ComposedChart data={rows} syncId="stream" margin={{ top: 8, right: 16, bottom: 0, left: 8 }} style={onZoom ? { cursor: "crosshair", userSelect: "none" } : undefined} {...zoomHandlers}>
            <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" />
            <XAxis dataKey="t" type="number" domain={domain} ticks={ticks} scale="time" tickFormatter={fmt} stroke="var(--muted)" fontSize={11} />
            <YAxis domain={["auto", "auto"]} stroke="var(--muted)" fontSize={11} width={70} tickFormatter={(v: number) => formatTick(v, unit)} />
            <Tooltip
              labelFormatter={(t) => new Date(Number(t)).toLocaleString()}
              formatter={(v, name) => [Array.isArray(v) ? v.map((x) => formatValue(Number(x), unit)).join(" – ") : formatValue(Number(v), unit), NAMES[String(name)] ?? name]}
              contentStyle={TOOLTIP_STYLE}
              labelStyle={{ color: "var(--muted)", marginBottom: 4 }}
              itemStyle={{ padding: 0, color: "var(--text)" }}
            />
            {drag ? <ReferenceArea x1={Math.min(drag.a, drag.b)} x2={Math.max(drag.a, drag.b)} fill="var(--accent)" fillOpacity={0.15} ifOverflow="hidden" /> : null}
            {labelled.map((l) => (
              <ReferenceArea
                key={`truth-${l.startMs}`}
                x1={Math.max(l.startMs, fromMs)}
                // a single marked row is a point: widen it to 0.4 % of the window so it stays visible
                x2={Math.min(Math.max(l.endMs, l.startMs + (toMs - fromMs) / 250), toMs)}
                fill="var(--accent)"
                fillOpacity={0.12}
                stroke="var(--accent)"
                strokeDasharray="3 3"
                ifOverflow="hidden"
                label={{ value: "labelled", position: "insideTop", fill: "var(--accent)", fontSize: 10 }}
              />
            ))}
            {markers.map((m) => (
              <ReferenceArea
                key={m.id}
                x1={Math.max(m.startMs, fromMs)}
                x2={Math.min(Math.max(m.endMs, m.startMs + 1), toMs)}
                fill={`var(--${m.severity})`}
                fillOpacity={0.18}
                stroke={`var(--${m.severity})`}
                strokeOpacity={0.6}
                ifOverflow="hidden"
              />
            ))}
            <Area dataKey="band" name="expected range" stroke="none" fill="var(--band)" isAnimationActive={false} connectNulls={false} />
            <Line dataKey="expected" name="expected" stroke="var(--muted)" strokeDasharray="4 3" dot={false} isAnimationActive={false} connectNulls={false} />
            {hasForecast ? (
              <>
                <ReferenceLine x={toMs} stroke="var(--muted)" strokeDasharray="2 2" label={{ value: "now", fill: "var(--muted)", fontSize: 11, position: "insideTopRight" }} />
                <Area dataKey="forecastBand" name="forecast range" stroke="none" fill="var(--score)" fillOpacity={0.12} isAnimationActive={false} />
                <Line dataKey="forecast" name="forecast" stroke="var(--score)" strokeDasharray="5 4" dot={false} isAnimationActive={false} />
              </>
            ) : null}
            <Line dataKey="v" name="value" stroke="var(--line)" strokeWidth={1.6} dot={false} isAnimationActive={false} connectNulls={false} />
          </ComposedChart>
        </ResponsiveContainer>
      </div>
      <div style={{ width: "100%", height: 110 }} role="img" aria-label="Anomaly score lane" data-testid="score-chart">
        <ResponsiveContainer width="100%" height="100%">
          <ComposedChart data={rows} syncId="stream" margin={{ top: 4, right: 16, bottom: 0, left: 8 }}>
            <XAxis dataKey="t" type="number" domain={domain} ticks={ticks} scale="time" tickFormatter={fmt} stroke="var(--muted)" fontSize={11} />
            <YAxis domain={[0, 100]} ticks={[0, 60, 80, 95]} stroke="var(--muted)" fontSize={11} width={70} />
            <ReferenceArea y1={95} y2={100} fill="var(--high)" fillOpacity={0.08} />
            <ReferenceArea y1={80} y2={95} fill="var(--medium)" fillOpacity={0.06} />
            <ReferenceArea y1={60} y2={80} fill="var(--low)" fillOpacity={0.05} />
            <Area dataKey="score" name="anomaly score" stroke="var(--score)" fill="var(--score)" fillOpacity={0.25} dot={false} isAnimationActive={false} connectNulls={false} />
          </ComposedChart>
        </ResponsiveContainer>
      </div>
    </div>
  );
}

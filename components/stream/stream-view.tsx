"use client";
import Link from "next/link";
import { useMemo, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { appendForecast, buildChartRows, formatValue } from "@/components/charts/chart-data";
import { StreamChart } from "./stream-chart";

const RANGE_OPTIONS = ["15m", "1h", "6h", "24h", "7d", "30d"] as const;
type Range = (typeof RANGE_OPTIONS)[number];

export function StreamView({ id }: { id: number }) {
  const trpc = useTRPC();
  const [range, setRange] = useState<Range>("1h");
  const detail = useQuery(trpc.streams.detail.queryOptions({ id, range }, { refetchInterval: 10_000 }));
  const anomalies = useQuery(trpc.anomalies.list.queryOptions({ streamId: id, limit: 200 }, { refetchInterval: 10_000 }));
  const prediction = useQuery(trpc.predict.forStream.queryOptions({ id }, { refetchInterval: 30_000 }));
  // The 30-minute forecast is readable on short ranges only; on days-long ranges it is a sliver.
  const showForecast = range === "15m" || range === "1h" || range === "6h";
  const rows = useMemo(
    () => (detail.data ? appendForecast(buildChartRows(detail.data.series, detail.data.scores), showForecast ? prediction.data?.forecast : null) : []),
    [detail.data, prediction.data, showForecast],
  );

  if (detail.isError) return <p className="error">Could not load stream {id}: {detail.error.message}</p>;
  if (!detail.data) return <p className="muted">Loading…</p>;
  const { stream, fromMs, toMs } = detail.data;
  const markers = (anomalies.data?.rows ?? []).map((a) => ({ id: a.id, startMs: a.startMs, endMs: a.endMs ?? toMs, severity: a.severity }));
  return (
    <div>
      <p className="muted">
        <Link href="/">Overview</Link> / {stream.sourceName}
        {stream.group ? ` / ${stream.group}` : ""}
      </p>
      <h1 data-testid="stream-title">{stream.key}</h1>
      <div className="row" style={{ justifyContent: "space-between" }}>
        <div className="row">
          <span>
            last <strong>{formatValue(stream.lastValue, stream.unit)}</strong>
          </span>
          <span>
            score <strong>{stream.lastScore === null ? "–" : stream.lastScore.toFixed(0)}</strong>
          </span>
          <span className="muted">kind {stream.kind}</span>
          {stream.health !== null ? <span className="muted">health {(stream.health * 100).toFixed(0)}%</span> : null}
        </div>
        <div className="row" role="group" aria-label="Time range">
          {RANGE_OPTIONS.map((r) => (
            <button key={r} type="button" aria-pressed={range === r} onClick={() => setRange(r)}>
              {r}
            </button>
          ))}
        </div>
      </div>
      {prediction.data ? (
        <p className="muted" data-testid="stream-prediction">
          Next 30 min: {Math.round(prediction.data.probability * 100)}% chance of leaving the normal range{" "}
          {formatValue(prediction.data.envelopeLow, stream.unit)} – {formatValue(prediction.data.envelopeHigh, stream.unit)}
          {prediction.data.etaMs ? ` (forecast crosses ${prediction.data.direction === "below" ? "below" : "above"} it at ${new Date(prediction.data.etaMs).toLocaleTimeString()})` : ""}.
        </p>
      ) : null}
      <div className="panel" style={{ marginTop: 10 }}>
        {rows.length === 0 ? <p className="muted">No samples in this range.</p> : null}
        <StreamChart rows={rows} markers={markers} fromMs={fromMs} toMs={toMs} unit={stream.unit} />
      </div>
      <h2>Anomalies on this stream</h2>
      {anomalies.data && anomalies.data.rows.length === 0 ? <p className="muted">None recorded.</p> : null}
      <ul>
        {(anomalies.data?.rows ?? []).slice(0, 20).map((a) => (
          <li key={a.id}>
            <Link href={`/anomalies/${a.id}`}>
              <span className={`badge ${a.severity}`}>{a.severity}</span> {a.type} · peak {a.peakScore.toFixed(0)} ·{" "}
              {new Date(a.startMs).toLocaleString()} · {a.status}
            </Link>
          </li>
        ))}
      </ul>
    </div>
  );
}

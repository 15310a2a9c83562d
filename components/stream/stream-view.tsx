"use client";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useMemo, useState } from "react";
import { domainFloor } from "@/lib/triage/domain";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { appendForecast, buildChartRows, clipRowsToFloor, formatValue } from "@/components/charts/chart-data";
import { Breadcrumbs } from "@/components/ui/breadcrumbs";
import { EndedBadge } from "./ended-badge";
import { StreamActions } from "./stream-actions";
import { StreamChart } from "./stream-chart";

const RANGE_OPTIONS = ["15m", "1h", "6h", "24h", "7d", "30d"] as const;
type Range = (typeof RANGE_OPTIONS)[number];

/** `datetime-local` text for an instant, in the browser's time zone. */
function toLocalInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

/**
 * One stream for investigation: presets, absolute from/to and drag-to-zoom, all kept in the URL
 * (`?range=7d` or `?from=<ms>&to=<ms>`) so a view can be shared. Without either it opens on the
 * data's last day, so an import from years ago is on screen at once.
 */
export function StreamView({ id }: { id: number }) {
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const fromParam = Number(params.get("from"));
  const toParam = Number(params.get("to"));
  const absolute = Number.isFinite(fromParam) && Number.isFinite(toParam) && params.get("from") !== null && params.get("to") !== null && toParam > fromParam;
  const rangeParam = params.get("range");
  const range: Range | undefined = RANGE_OPTIONS.includes(rangeParam as Range) ? (rangeParam as Range) : undefined;
  const go = (q: Record<string, string>) => router.replace(`${pathname}?${new URLSearchParams(q).toString()}`, { scroll: false });
  const detail = useQuery(
    trpc.streams.detail.queryOptions(absolute ? { id, fromMs: fromParam, toMs: toParam } : { id, range }, {
      refetchInterval: absolute ? false : 10_000,
      placeholderData: (prev) => prev,
    }),
  );
  const [fromText, setFromText] = useState<string | null>(null);
  const [toText, setToText] = useState<string | null>(null);
  // Markers for the window on screen (an old import may hold more anomalies than one list page).
  const win = detail.data ? { fromMs: detail.data.fromMs, toMs: detail.data.toMs } : {};
  const anomalies = useQuery(trpc.anomalies.list.queryOptions({ streamId: id, limit: 200, ...win }, { refetchInterval: 10_000, placeholderData: (prev) => prev }));
  const prediction = useQuery(trpc.predict.forStream.queryOptions({ id }, { refetchInterval: 30_000 }));
  // The 30-minute forecast is readable on short ranges that end now; on days-long ranges it is a sliver.
  const span = detail.data ? detail.data.toMs - detail.data.fromMs : Infinity;
  const showForecast = Boolean(detail.data?.live) && span <= 6 * 3_600_000;
  const floor = detail.data ? domainFloor({ metric: detail.data.stream.metric, kind: detail.data.stream.kind, unit: detail.data.stream.unit }) : -Infinity;
  const rows = useMemo(
    () =>
      detail.data
        ? clipRowsToFloor(appendForecast(buildChartRows(detail.data.series, detail.data.scores), showForecast ? prediction.data?.forecast : null), floor)
        : [],
    [detail.data, prediction.data, showForecast, floor],
  );

  if (detail.isError) return <p className="error">Could not load stream {id}: {detail.error.message}</p>;
  if (!detail.data) return <p className="muted">Loading…</p>;
  const { stream, fromMs, toMs } = detail.data;
  const firstMs = rows.find((r) => r.v !== null)?.t ?? null;
  const markers = (anomalies.data?.rows ?? []).map((a) => ({ id: a.id, startMs: a.startMs, endMs: a.endMs ?? toMs, severity: a.severity }));
  return (
    <div>
      <Breadcrumbs
        trail={[{ label: "Overview", href: "/" }, { label: stream.sourceName }, ...(stream.group ? [{ label: stream.group }] : []), { label: stream.key }]}
      />
      <h1 data-testid="stream-title">{stream.key}</h1>
      <StreamActions id={stream.id} streamKey={stream.key} archivedAtMs={stream.archivedAtMs} kind={stream.kind} />
      <div className="row" style={{ justifyContent: "space-between", marginTop: 6 }}>
        <div className="row">
          <span>
            last <strong>{formatValue(stream.lastValue, stream.unit)}</strong>
          </span>
          <span>
            score <strong>{stream.lastScore === null ? "–" : stream.lastScore.toFixed(0)}</strong>
          </span>
          <span className="muted">kind {stream.kind}</span>
          <EndedBadge endedAtMs={stream.endedAtMs} nowMs={detail.dataUpdatedAt || Date.now()} />
          {stream.health !== null ? <span className="muted">health {(stream.health * 100).toFixed(0)}%</span> : null}
        </div>
        <div className="row" role="group" aria-label="Time range">
          {RANGE_OPTIONS.map((r) => (
            <button key={r} type="button" aria-pressed={!absolute && (range ?? "24h") === r} onClick={() => go({ range: r })}>
              {r}
            </button>
          ))}
        </div>
      </div>
      <form
        className="row"
        style={{ marginTop: 6 }}
        aria-label="Absolute range"
        onSubmit={(e) => {
          e.preventDefault();
          const f = new Date(fromText ?? toLocalInput(fromMs)).getTime();
          const t = new Date(toText ?? toLocalInput(toMs)).getTime();
          if (Number.isFinite(f) && Number.isFinite(t) && t > f) {
            setFromText(null);
            setToText(null);
            go({ from: String(f), to: String(t) });
          }
        }}
      >
        <label>
          From <input type="datetime-local" aria-label="Range start" value={fromText ?? toLocalInput(fromMs)} onChange={(e) => setFromText(e.target.value)} />
        </label>
        <label>
          to <input type="datetime-local" aria-label="Range end" value={toText ?? toLocalInput(toMs)} onChange={(e) => setToText(e.target.value)} />
        </label>
        <button type="submit">Show</button>
        {absolute ? (
          <button type="button" onClick={() => go({ range: "24h" })}>
            Back to the last day
          </button>
        ) : null}
        <span className="muted small" data-testid="stream-window">
          {new Date(fromMs).toLocaleString()} – {new Date(toMs).toLocaleString()}
          {stream.stale ? " · stream stopped: showing its last data" : ""}
          {/* the previous range stays drawn while the new one loads: say so */}
          {detail.isPlaceholderData ? " · loading the new range…" : ""} · drag across the chart to zoom
        </span>
      </form>
      {prediction.data && detail.data.live ? (
        <p className="muted" data-testid="stream-prediction">
          Next 30 min: {Math.round(prediction.data.probability * 100)}% chance of leaving the normal range{" "}
          {formatValue(prediction.data.envelopeLow, stream.unit)} – {formatValue(prediction.data.envelopeHigh, stream.unit)}
          {prediction.data.etaMs ? ` (forecast crosses ${prediction.data.direction === "below" ? "below" : "above"} it at ${new Date(prediction.data.etaMs).toLocaleTimeString()})` : ""}.
        </p>
      ) : null}
      <div className="panel" style={{ marginTop: 10 }}>
        {rows.length === 0 ? <p className="muted">No samples in this range.</p> : null}
        {/* a young stream on a long range is a sliver at the right edge: say why the rest is empty */}
        {firstMs !== null && firstMs - fromMs > 0.2 * (toMs - fromMs) ? (
          <p className="muted small" data-testid="stream-starts">
            No samples before {new Date(firstMs).toLocaleString()}.{" "}
            <button type="button" className="link" onClick={() => go({ from: String(firstMs), to: String(toMs) })}>
              Show from the first sample
            </button>{" "}
            or drag across the chart to zoom in.
          </p>
        ) : null}
        <StreamChart
          rows={rows}
          markers={markers}
          labelled={detail.data.labelled}
          fromMs={fromMs}
          toMs={toMs}
          unit={stream.unit}
          onZoom={(f, t) => go({ from: String(Math.round(f)), to: String(Math.round(t)) })}
        />
        {detail.data.labelled.length ? (
          <p className="muted small" data-testid="stream-labelled">
            Dashed ranges: {detail.data.labelled.length} labelled anomal{detail.data.labelled.length === 1 ? "y" : "ies"} (ground truth from{" "}
            {[...new Set(detail.data.labelled.map((l) => l.origin))].join(", ")}), used by the backtest to score precision and recall.
          </p>
        ) : null}
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

"use client";
import { PredictedIncidents } from "@/components/predict/predicted-incidents";
import Link from "next/link";
import { useMemo, useState } from "react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useTRPC, type RouterOutputs } from "@/components/trpc/client";
import { Sparkline } from "@/components/charts/sparkline";
import { formatValue } from "@/components/charts/chart-data";
import { formatAge } from "@/lib/triage/freshness";
import { EndedBadge } from "@/components/stream/ended-badge";
import { NeedsAttention } from "./needs-attention";
import { useOnScreenIds } from "./use-on-screen-ids";

type StreamItem = RouterOutputs["streams"]["list"][number];
type SparkItem = RouterOutputs["streams"]["sparklines"][number];

const NO_POINTS: { t: number; v: number | null }[] = [];

function labelText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
}

function StreamCard({ s, spark, nowMs, track }: { s: StreamItem; spark: SparkItem | undefined; nowMs: number; track: (el: Element | null) => () => void }) {
  const score = s.lastScore ?? null;
  // until its points arrive (it just scrolled into view) a card draws empty lines of the same height
  const values = useMemo(() => spark?.t.map((t, i) => ({ t, v: spark.v[i] ?? null })) ?? NO_POINTS, [spark]);
  const scores = useMemo(() => spark?.t.map((t, i) => ({ t, v: spark.s[i] ?? null })) ?? NO_POINTS, [spark]);
  return (
    <Link
      ref={track}
      href={`/streams/${s.id}`}
      className={`card${s.stale ? " stale" : ""}`}
      data-testid="stream-card"
      data-stale={s.stale ? "true" : "false"}
      aria-label={`Stream ${s.key}`}
    >
      <div className="row" style={{ justifyContent: "space-between", flexWrap: "nowrap" }}>
        <span className="title" title={s.key}>
          {s.metric}
        </span>
        {s.severity ? <span className={`badge ${s.severity}`}>{s.severity}</span> : <span className="badge ok">normal</span>}
      </div>
      <div className="labels" title={labelText(s.labels)}>
        {labelText(s.labels) || "\u00a0"}
      </div>
      <div className="row" style={{ justifyContent: "space-between" }}>
        <span>
          <span className="value">{formatValue(s.lastValue, s.unit)}</span>{" "}
          <span className="muted age" data-testid="sample-age" title={s.lastSampleAtMs ? new Date(s.lastSampleAtMs).toISOString() : undefined}>
            {formatAge(s.lastSampleAtMs, nowMs)}
          </span>
          {/* an ended stream's silence is explained: "ended" replaces "stale" */}
          <EndedBadge endedAtMs={s.endedAtMs} nowMs={nowMs} />
          {s.stale && s.endedAtMs === null ? (
            <span className="badge stale" title="No new samples for several usual intervals: the stream may have stopped.">
              stale
            </span>
          ) : null}
        </span>
        <span className="muted" style={{ fontSize: 12 }}>
          score {score === null ? "–" : score.toFixed(0)}
          {s.health !== null ? ` · health ${(s.health * 100).toFixed(0)}%` : ""}
        </span>
      </div>
      <Sparkline points={values} label={`${s.metric} recent values`} />
      <Sparkline
        points={scores}
        color="var(--score)"
        height={18}
        domain={[0, 100]}
        label={`${s.metric} recent anomaly scores`}
      />
    </Link>
  );
}

/**
 * Streams grouped by source and group, refreshed by polling so it stays live without reloads.
 * Sparklines are read for the cards on and near the screen only.
 */
export function Overview() {
  const trpc = useTRPC();
  const [search, setSearch] = useState("");
  const [onlyAnomalous, setOnlyAnomalous] = useState(false);
  const streams = useQuery(trpc.streams.list.queryOptions({ search: search || undefined, limit: 1000 }, { refetchInterval: 5_000 }));
  const counts = useQuery(trpc.incidents.openCounts.queryOptions(undefined, { refetchInterval: 5_000 }));
  const onScreen = useOnScreenIds();
  const sparks = useQuery(
    trpc.streams.sparklines.queryOptions({ ids: onScreen.ids }, { enabled: onScreen.ids.length > 0, refetchInterval: 5_000, placeholderData: keepPreviousData }),
  );
  const sparkOf = useMemo(() => new Map((sparks.data ?? []).map((p) => [p.id, p])), [sparks.data]);
  const nowMs = streams.dataUpdatedAt || Date.now();
  const groups = useMemo(() => {
    const map = new Map<string, StreamItem[]>();
    for (const s of streams.data ?? []) {
      if (onlyAnomalous && !s.severity) continue;
      const key = `${s.sourceName}${s.group ? ` / ${s.group}` : ""}`;
      let list = map.get(key);
      if (!list) map.set(key, (list = []));
      list.push(s);
    }
    return [...map.entries()];
  }, [streams.data, onlyAnomalous]);

  return (
    <div>
      <div className="row" style={{ justifyContent: "space-between" }}>
        <h1>Overview</h1>
        <input
          type="search"
          placeholder="Filter: metric or label (host=vm)…"
          aria-label="Filter streams"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          style={{ width: 320 }}
        />
        <button type="button" aria-pressed={onlyAnomalous} onClick={() => setOnlyAnomalous(!onlyAnomalous)}>
          Only streams with open anomalies
        </button>
        <Link href="/archived" className="small" data-testid="show-archived">
          Show archived
        </Link>
        <span className="muted small" data-testid="last-updated" aria-live="off">
          {streams.dataUpdatedAt ? `updated ${new Date(streams.dataUpdatedAt).toLocaleTimeString()}` : ""}
        </span>
      </div>
      <NeedsAttention />
      <div className="kpis" aria-label="Open incidents by severity">
        {(["high", "medium", "low"] as const).map((sev) => (
          <Link key={sev} href={`/incidents?status=open&severity=${sev}&historical=0`} className="kpi" data-testid={`open-${sev}`}>
            <div className="muted">open {sev} incidents</div>
            <div className="n" style={{ color: `var(--${sev})` }}>
              {counts.data ? counts.data[sev] : "–"}
            </div>
          </Link>
        ))}
        <div className="kpi">
          <div className="muted">streams</div>
          <div className="n">{streams.data?.length ?? "–"}</div>
        </div>
      </div>
      <PredictedIncidents />
      {streams.isError ? <p className="error">Could not load streams: {streams.error.message}</p> : null}
      {streams.data && streams.data.length === 0 ? (
        <p className="muted">No streams yet. The host collector reports every 10 seconds; they appear here shortly.</p>
      ) : null}
      {groups.length > 0 ? <h2>All streams</h2> : null}
      {groups.map(([name, list]) => (
        <section key={name} aria-label={name}>
          <h2 className="group-title">{name}</h2>
          <div className="grid">
            {list.map((s) => (
              <StreamCard key={s.id} s={s} spark={sparkOf.get(s.id)} nowMs={nowMs} track={onScreen.track(s.id)} />
            ))}
          </div>
        </section>
      ))}
    </div>
  );
}

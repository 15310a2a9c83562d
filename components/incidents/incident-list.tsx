"use client";
import { BulkBar } from "@/components/triage/bulk-bar";
import Link from "next/link";
import { useMemo, useState } from "react";
import { Facet, FoundFacet, PAGE, Pager, SearchForm, SortHeader, useListUrl, useSelection } from "@/components/triage/list-controls";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC, type RouterInputs } from "@/components/trpc/client";
import { formatDuration, formatTime, LABEL_TEXT, LABELS, parseList, SEVERITIES, STATUSES } from "@/components/anomalies/anomaly-format";

type ListInput = RouterInputs["incidents"]["list"];

function labelText(labels: Record<string, string>): string {
  const e = Object.entries(labels);
  return e.length ? ` {${e.map(([k, v]) => `${k}=${v}`).join(", ")}}` : "";
}

/**
 * Incidents: anomalies grouped by source/group and time, one status each. Filters live in the
 * URL; triage and labels act on whole incidents (their anomalies follow), on the selected rows or
 * on everything the filter matches.
 */
export function IncidentList() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const sel = useSelection<number>();
  const { selected, allMatching, setAllMatching } = sel;
  const url = useListUrl(sel.reset);
  const { params, setParams, toggle, search, historical, sort, dir, page } = url;
  const status = parseList(params.get("status"), STATUSES);
  const severity = parseList(params.get("severity"), SEVERITIES);
  const label = parseList(params.get("label"), LABELS);
  const [searchText, setSearchText] = useState(search);

  const input: ListInput = {
    status: status.length ? status : undefined,
    severity: severity.length ? severity : undefined,
    label: label.length ? label : undefined,
    search: search || undefined,
    historical,
    sort,
    dir,
    limit: PAGE,
    offset: page * PAGE,
  };
  const list = useQuery(trpc.incidents.list.queryOptions(input, { refetchInterval: 5_000 }));
  const rows = useMemo(() => list.data?.rows ?? [], [list.data]);
  const total = list.data?.total ?? 0;

  const invalidate = () => qc.invalidateQueries({ queryKey: trpc.incidents.pathKey() });
  const setStatus = useMutation(trpc.incidents.setStatus.mutationOptions({ onSuccess: invalidate }));
  const setLabel = useMutation(trpc.incidents.label.mutationOptions({ onSuccess: invalidate }));
  const statusAll = useMutation(trpc.incidents.setStatusMatching.mutationOptions({ onSuccess: invalidate, onSettled: () => setAllMatching(false) }));
  const labelAll = useMutation(trpc.incidents.labelMatching.mutationOptions({ onSuccess: invalidate, onSettled: () => setAllMatching(false) }));
  const { sort: _s, dir: _d, limit: _l, offset: _o, ...filter } = input;
  const ids = [...selected].filter((id) => rows.some((r) => r.id === id));
  const allSelected = rows.length > 0 && ids.length === rows.length;
  const busy = setStatus.isPending || setLabel.isPending || statusAll.isPending || labelAll.isPending;
  const doStatus = (st: "acknowledged" | "resolved" | "open") => (allMatching ? statusAll.mutate({ filter, status: st }) : setStatus.mutate({ ids, status: st }));
  const doLabel = (l: (typeof LABELS)[number]) => (allMatching ? labelAll.mutate({ filter, label: l }) : setLabel.mutate({ ids, label: l }));
  const error = setStatus.error ?? setLabel.error ?? statusAll.error ?? labelAll.error;
  const done = statusAll.data ?? labelAll.data ?? setStatus.data ?? setLabel.data;

  return (
    <div>
      <div className="row" style={{ justifyContent: "space-between" }}>
        <h1>Incidents</h1>
        <SearchForm
          label="Search incidents"
          placeholder="Source, metric or label (host=web-1)…"
          value={searchText}
          onChange={setSearchText}
          onSearch={(q) => setParams({ q })}
          minWidth={300}
        />
      </div>
      <p className="muted small">
        Anomalies that overlap in time on streams of one source and group form one incident, with one status: it closes by itself when all its
        anomalies ended. Alerts announce incidents, not single anomalies.
      </p>
      <div className="panel filters">
        <Facet name="Status" values={STATUSES} selected={status} onToggle={(v) => toggle("status", status, v)} />
        <Facet name="Severity" values={SEVERITIES} selected={severity} onToggle={(v) => toggle("severity", severity, v)} />
        <Facet name="Label" values={LABELS} selected={label} onToggle={(v) => toggle("label", label, v)} text={(v) => LABEL_TEXT[v]} />
        <FoundFacet url={url} />
        {search || status.length || severity.length || label.length || historical !== undefined ? (
          <div className="row">
            <button
              type="button"
              onClick={() => {
                setSearchText("");
                url.clear();
              }}
            >
              Clear filters
            </button>
          </div>
        ) : null}
      </div>

      <BulkBar
        total={total}
        noun={["incident", "incidents"]}
        selectedCount={ids.length}
        allMatching={allMatching}
        offerAllMatching={allSelected && total > rows.length}
        onSelectAllMatching={() => setAllMatching(true)}
        busy={busy}
        onStatus={doStatus}
        onLabel={doLabel}
        error={error}
        done={done ?? null}
        countTestId="incident-count"
      />

      {list.isError ? <p className="error">Could not load incidents: {list.error.message}</p> : null}
      <table data-testid="incident-table">
        <caption className="sr-only">Incidents, {sort} {dir === "asc" ? "ascending" : "descending"}</caption>
        <thead>
          <tr>
            <th>
              <input
                type="checkbox"
                aria-label="Select all incidents on this page"
                checked={allSelected}
                onChange={() => sel.togglePage(rows.map((r) => r.id), allSelected)}
              />
            </th>
            <SortHeader k="severity" text="Severity" url={url} />
            <th>Incident</th>
            <th>Streams</th>
            <SortHeader k="start" text="Started" url={url} />
            <th>Duration</th>
            <SortHeader k="score" text="Peak score" url={url} />
            <th>Status</th>
            <th>Label</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((i) => (
            <tr key={i.id} data-testid="incident-row" aria-selected={selected.has(i.id)}>
              <td>
                <input
                  type="checkbox"
                  aria-label={`Select incident #${i.id}`}
                  checked={selected.has(i.id)}
                  onChange={() => sel.toggleOne(i.id)}
                />
              </td>
              <td>
                <span className={`badge ${i.severity}`}>{i.severity}</span>
              </td>
              {/* room for "#101 e2e-shop / queues" on one line beside the wide streams column */}
              <td style={{ minWidth: "13em" }}>
                <Link href={`/incidents/${i.id}`} data-testid="incident-link">
                  #{i.id} {i.sourceName}
                  {i.group ? ` / ${i.group}` : ""}
                </Link>
                <div className="muted small">
                  {i.type} · {i.anomalyCount} {i.anomalyCount === 1 ? "anomaly" : "anomalies"}
                </div>
              </td>
              <td className="mono ellipsis small" title={i.streams.map((s) => s.key).join("\n")}>
                {i.streams
                  .slice(0, 3)
                  .map((s) => `${s.metric}${labelText(s.labels)}`)
                  .join(" · ")}
                {i.streamIds.length > 3 ? <span className="muted"> +{i.streamIds.length - 3}</span> : null}
              </td>
              <td className="nowrap">{formatTime(i.startMs)}</td>
              <td>{i.endMs === null ? <span className="muted">ongoing</span> : formatDuration(i.endMs - i.startMs)}</td>
              <td className="num">{i.peakScore.toFixed(0)}</td>
              <td>
                <span className={`status ${i.status}`} data-testid="incident-status">
                  {i.status}
                </span>
                {i.status === "resolved" && i.resolvedBy === "auto" ? <span className="muted small"> (ended)</span> : null}
                {i.historical ? (
                  <span className="tag-historical" title="Found in imported or backfilled history: not counted as open.">
                    historical
                  </span>
                ) : null}
              </td>
              <td>{i.label ? LABEL_TEXT[i.label] : <span className="muted">–</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.data && rows.length === 0 ? <p className="muted">No incidents match these filters.</p> : null}
      <Pager total={total} url={url} />
    </div>
  );
}

"use client";
import { BulkBar } from "@/components/triage/bulk-bar";
import Link from "next/link";
import { useMemo, useState } from "react";
import { Facet, FoundFacet, PAGE, Pager, SearchForm, SortHeader, useListUrl, useSelection } from "@/components/triage/list-controls";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC, type RouterInputs } from "@/components/trpc/client";
import { formatDuration, formatTime, LABEL_TEXT, LABELS, parseList, SEVERITIES, STATUSES, TYPES } from "./anomaly-format";

type ListInput = RouterInputs["anomalies"]["list"];

/** The triage queue: filters and sort live in the URL, so every view is a deep link. */
export function AnomalyQueue() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  // "All N matching": bulk actions then go to the server with the filter, not the page's ids.
  const sel = useSelection<string>();
  const { selected, allMatching, setAllMatching } = sel;
  const url = useListUrl(sel.reset);
  const { params, setParams, toggle, search, historical, sort, dir, page } = url;
  const status = parseList(params.get("status"), STATUSES);
  const severity = parseList(params.get("severity"), SEVERITIES);
  const type = parseList(params.get("type"), TYPES);
  const label = parseList(params.get("label"), LABELS);
  const streamId = Number(params.get("stream")) || undefined;
  const [searchText, setSearchText] = useState(search);

  const input: ListInput = {
    status: status.length ? status : undefined,
    severity: severity.length ? severity : undefined,
    type: type.length ? type : undefined,
    label: label.length ? label : undefined,
    search: search || undefined,
    historical,
    streamId,
    sort,
    dir,
    limit: PAGE,
    offset: page * PAGE,
  };
  const list = useQuery(trpc.anomalies.list.queryOptions(input, { refetchInterval: 5_000 }));
  const rows = useMemo(() => list.data?.rows ?? [], [list.data]);
  const total = list.data?.total ?? 0;

  const invalidate = () => qc.invalidateQueries({ queryKey: trpc.anomalies.pathKey() });
  const setStatus = useMutation(trpc.anomalies.setStatus.mutationOptions({ onSuccess: invalidate }));
  const setLabel = useMutation(trpc.anomalies.label.mutationOptions({ onSuccess: invalidate }));
  const statusAll = useMutation(trpc.triage.setStatusMatching.mutationOptions({ onSuccess: invalidate, onSettled: () => setAllMatching(false) }));
  const labelAll = useMutation(trpc.triage.labelMatching.mutationOptions({ onSuccess: invalidate, onSettled: () => setAllMatching(false) }));
  const { sort: _s, dir: _d, limit: _l, offset: _o, ...filter } = input;
  const busy = setStatus.isPending || setLabel.isPending || statusAll.isPending || labelAll.isPending;
  const doStatus = (st: "acknowledged" | "resolved" | "open") => (allMatching ? statusAll.mutate({ filter, status: st }) : setStatus.mutate({ ids, status: st }));
  const doLabel = (l: (typeof LABELS)[number]) => (allMatching ? labelAll.mutate({ filter, label: l }) : setLabel.mutate({ ids, label: l }));
  const bulkError = setStatus.error ?? setLabel.error ?? statusAll.error ?? labelAll.error;
  const bulkDone = statusAll.data ?? labelAll.data;
  const ids = [...selected].filter((id) => rows.some((r) => r.id === id));
  const allSelected = rows.length > 0 && ids.length === rows.length;

  return (
    <div>
      <div className="row" style={{ justifyContent: "space-between" }}>
        <h1>Anomalies</h1>
        <SearchForm
          label="Search by stream"
          placeholder="Stream (metric or label)…"
          value={searchText}
          onChange={setSearchText}
          onSearch={(q) => setParams({ q })}
          minWidth={280}
        />
      </div>
      <div className="panel filters">
        <Facet name="Status" values={STATUSES} selected={status} onToggle={(v) => toggle("status", status, v)} />
        <Facet name="Severity" values={SEVERITIES} selected={severity} onToggle={(v) => toggle("severity", severity, v)} />
        <Facet name="Type" values={TYPES} selected={type} onToggle={(v) => toggle("type", type, v)} />
        <Facet name="Label" values={LABELS} selected={label} onToggle={(v) => toggle("label", label, v)} text={(v) => LABEL_TEXT[v]} />
        <FoundFacet url={url} />
        {streamId || search || status.length || severity.length || type.length || label.length ? (
          <div className="row">
            {streamId ? <span className="muted">stream #{streamId}</span> : null}
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
        noun={["anomaly", "anomalies"]}
        selectedCount={ids.length}
        allMatching={allMatching}
        offerAllMatching={allSelected && total > rows.length}
        onSelectAllMatching={() => setAllMatching(true)}
        busy={busy}
        onStatus={doStatus}
        onLabel={doLabel}
        error={bulkError}
        done={bulkDone ?? null}
      />

      {list.isError ? <p className="error">Could not load anomalies: {list.error.message}</p> : null}
      <table data-testid="anomaly-table">
        <caption className="sr-only">Anomalies, {sort} {dir === "asc" ? "ascending" : "descending"}</caption>
        <thead>
          <tr>
            <th>
              <input
                type="checkbox"
                aria-label="Select all anomalies on this page"
                checked={allSelected}
                onChange={() => sel.togglePage(rows.map((r) => r.id), allSelected)}
              />
            </th>
            <SortHeader k="severity" text="Severity" url={url} />
            <th>Type</th>
            <th>Stream</th>
            <SortHeader k="start" text="Started" url={url} />
            <th>Duration</th>
            <SortHeader k="score" text="Peak score" url={url} />
            <th>Status</th>
            <th>Label</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((a) => (
            <tr key={a.id} data-testid="anomaly-row" aria-selected={selected.has(a.id)}>
              <td>
                <input
                  type="checkbox"
                  aria-label={`Select ${a.severity} ${a.type} anomaly on ${a.streamKey} at ${formatTime(a.startMs)}`}
                  checked={selected.has(a.id)}
                  onChange={() => sel.toggleOne(a.id)}
                />
              </td>
              <td>
                <span className={`badge ${a.severity}`}>{a.severity}</span>
              </td>
              <td>{a.type}</td>
              <td className="mono ellipsis" title={a.streamKey}>
                <Link href={`/anomalies/${a.id}`}>{a.streamKey}</Link>
                {a.streamIds.length > 1 ? <span className="muted"> +{a.streamIds.length - 1}</span> : null}
              </td>
              <td>{formatTime(a.startMs)}</td>
              <td>{a.endMs === null ? <span className="muted">ongoing</span> : formatDuration(a.endMs - a.startMs)}</td>
              <td className="num">{a.peakScore.toFixed(0)}</td>
              <td>
                <span className={`status ${a.status}`}>{a.status}</span>
                {a.historical ? (
                  <span className="tag-historical" title="Found in imported or backfilled history: not counted as open." data-testid="historical-tag">
                    historical
                  </span>
                ) : null}
              </td>
              <td>{a.label ? LABEL_TEXT[a.label] : <span className="muted">–</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.data && rows.length === 0 ? <p className="muted">No anomalies match these filters.</p> : null}
      <Pager total={total} url={url} />
    </div>
  );
}

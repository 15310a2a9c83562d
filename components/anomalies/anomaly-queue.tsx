"use client";
import { BulkBar } from "@/components/triage/bulk-bar";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useMemo, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC, type RouterInputs } from "@/components/trpc/client";
import { formatDuration, formatTime, LABEL_TEXT, LABELS, parseList, SEVERITIES, STATUSES, TYPES } from "./anomaly-format";

type ListInput = RouterInputs["anomalies"]["list"];
type SortKey = "start" | "severity" | "score";
const PAGE = 50;

function FacetGroup<T extends string>({
  name,
  values,
  selected,
  onToggle,
  text,
}: {
  name: string;
  values: readonly T[];
  selected: T[];
  onToggle: (v: T) => void;
  text?: (v: T) => string;
}) {
  return (
    <div className="row facet" role="group" aria-label={`Filter by ${name}`}>
      <span className="muted facet-name">{name}</span>
      {values.map((v) => (
        <button key={v} type="button" aria-pressed={selected.includes(v)} onClick={() => onToggle(v)}>
          {text ? text(v) : v}
        </button>
      ))}
    </div>
  );
}

/** The triage queue: filters and sort live in the URL, so every view is a deep link. */
export function AnomalyQueue() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const status = parseList(params.get("status"), STATUSES);
  const severity = parseList(params.get("severity"), SEVERITIES);
  const type = parseList(params.get("type"), TYPES);
  const label = parseList(params.get("label"), LABELS);
  const search = params.get("q") ?? "";
  const historicalParam = params.get("historical");
  const historical = historicalParam === "1" ? true : historicalParam === "0" ? false : undefined;
  const streamId = Number(params.get("stream")) || undefined;
  const sort = (["start", "severity", "score"].includes(params.get("sort") ?? "") ? params.get("sort") : "start") as SortKey;
  const dir = params.get("dir") === "asc" ? "asc" : "desc";
  const page = Math.max(0, Number(params.get("page")) || 0);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  // "All N matching": bulk actions then go to the server with the filter, not the page's ids.
  const [allMatching, setAllMatching] = useState(false);
  const [searchText, setSearchText] = useState(search);

  const setParams = (patch: Record<string, string | null>) => {
    const next = new URLSearchParams(params.toString());
    for (const [k, v] of Object.entries(patch)) {
      if (v === null || v === "") next.delete(k);
      else next.set(k, v);
    }
    if (!("page" in patch)) next.delete("page");
    setSelected(new Set());
    setAllMatching(false);
    router.replace(`${pathname}${next.size ? `?${next.toString()}` : ""}`, { scroll: false });
  };
  const toggle = <T extends string>(key: string, list: T[], v: T) =>
    setParams({ [key]: (list.includes(v) ? list.filter((x) => x !== v) : [...list, v]).join(",") });

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

  const sortHeader = (key: SortKey, text: string) => {
    const active = sort === key;
    return (
      <th aria-sort={active ? (dir === "asc" ? "ascending" : "descending") : "none"}>
        <button type="button" onClick={() => setParams({ sort: key, dir: active && dir === "desc" ? "asc" : "desc" })}>
          {text} {active ? (dir === "asc" ? "▲" : "▼") : ""}
        </button>
      </th>
    );
  };

  return (
    <div>
      <div className="row" style={{ justifyContent: "space-between" }}>
        <h1>Anomalies</h1>
        <form
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            setParams({ q: searchText.trim() });
          }}
        >
          <input
            type="search"
            aria-label="Search by stream"
            placeholder="Stream (metric or label)…"
            value={searchText}
            onChange={(e) => setSearchText(e.target.value)}
            style={{ minWidth: 280 }}
          />
        </form>
      </div>
      <div className="panel filters">
        <FacetGroup name="Status" values={STATUSES} selected={status} onToggle={(v) => toggle("status", status, v)} />
        <FacetGroup name="Severity" values={SEVERITIES} selected={severity} onToggle={(v) => toggle("severity", severity, v)} />
        <FacetGroup name="Type" values={TYPES} selected={type} onToggle={(v) => toggle("type", type, v)} />
        <FacetGroup name="Label" values={LABELS} selected={label} onToggle={(v) => toggle("label", label, v)} text={(v) => LABEL_TEXT[v]} />
        <FacetGroup
          name="Found"
          values={["live", "history"] as const}
          selected={historical === undefined ? [] : [historical ? "history" : "live"]}
          onToggle={(v) => {
            const want = v === "history" ? "1" : "0";
            setParams({ historical: historicalParam === want ? null : want });
          }}
          text={(v) => (v === "live" ? "detected live" : "in imported history")}
        />
        {streamId || search || status.length || severity.length || type.length || label.length ? (
          <div className="row">
            {streamId ? <span className="muted">stream #{streamId}</span> : null}
            <button
              type="button"
              onClick={() => {
                setSearchText("");
                router.replace(pathname);
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
                onChange={() => {
                  setAllMatching(false);
                  setSelected(allSelected ? new Set() : new Set(rows.map((r) => r.id)));
                }}
              />
            </th>
            {sortHeader("severity", "Severity")}
            <th>Type</th>
            <th>Stream</th>
            {sortHeader("start", "Started")}
            <th>Duration</th>
            {sortHeader("score", "Peak score")}
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
                  onChange={() => {
                    const next = new Set(selected);
                    if (next.has(a.id)) next.delete(a.id);
                    else next.add(a.id);
                    setAllMatching(false);
                    setSelected(next);
                  }}
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
      <nav className="row pager" aria-label="Pages">
        <button type="button" disabled={page === 0} onClick={() => setParams({ page: String(page - 1) })}>
          Previous
        </button>
        <span className="muted">
          {total ? `${page * PAGE + 1}–${Math.min(total, (page + 1) * PAGE)} of ${total}` : "0"}
        </span>
        <button type="button" disabled={(page + 1) * PAGE >= total} onClick={() => setParams({ page: String(page + 1) })}>
          Next
        </button>
      </nav>
    </div>
  );
}

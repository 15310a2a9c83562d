"use client";
import { Can, useCan } from "@/components/access/can";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { formatAge, isStale } from "@/lib/triage/freshness";
import { useEffect, useState, type FormEvent } from "react";
import { useTRPC, type RouterOutputs } from "@/components/trpc/client";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { describeRepeats } from "@/lib/ingest/repeated-times";
import { changedKinds, kindReason, type CsvPreviewStream } from "./csv-kinds";
import { csvSnippet, otlpSnippet, parseQueryLines, remoteWriteSnippet } from "./snippets";
import { Breadcrumbs } from "@/components/ui/breadcrumbs";

type Source = RouterOutputs["sources"]["list"][number];

const TOKEN_PLACEHOLDER = "<token>";

export function SourcesSettings() {
  const trpc = useTRPC();
  const sources = useQuery(trpc.sources.list.queryOptions(undefined, { refetchInterval: 10_000 }));
  const setup = useQuery(trpc.sources.ingestSetup.queryOptions());
  const [origin, setOrigin] = useState("http://omen:3000");
  useEffect(() => setOrigin(window.location.origin), []);
  return (
    <div>
      <Breadcrumbs trail={[{ label: "Settings", href: "/settings" }, { label: "Sources" }]} />
      <h1>Sources</h1>
      <p className="muted">
        The built-in host collector is always on. Add Prometheus (remote_write or pull), OpenTelemetry (OTLP/HTTP) or CSV data below.
      </p>
      <section className="panel" aria-labelledby="sources-list">
        <h2 id="sources-list">Connected sources</h2>
        {sources.isError && <p className="error">Could not load sources: {sources.error.message}</p>}
        {sources.data && <SourceTable rows={sources.data} />}
        <p className="small">
          <a href="/archived" data-testid="show-archived">
            Show archived sources and streams
          </a>
        </p>
      </section>
      <section className="panel" aria-labelledby="connect" style={{ marginTop: 12 }}>
        <h2 id="connect">Connect senders</h2>
        {setup.data ? (
          <>
            <p data-testid="ingest-token-hint">
              Senders authenticate with an API token that has the <code>ingest</code> scope: create one on{" "}
              <a href="/settings/tokens">Settings → API tokens</a> (it is shown once) and put it where the snippets say{" "}
              <code>{TOKEN_PLACEHOLDER}</code>
              {setup.data.tokenFromEnv ? ", or use OMEN_INGEST_TOKEN" : ", or use the token printed at first start"}.
            </p>
            <Snippet title="Prometheus: add to prometheus.yml" text={remoteWriteSnippet(origin, TOKEN_PLACEHOLDER)} />
            <Snippet title="OpenTelemetry SDK / Collector: exporter environment" text={otlpSnippet(origin, TOKEN_PLACEHOLDER)} />
            <Snippet title="CSV from the command line" text={csvSnippet(origin, TOKEN_PLACEHOLDER)} />
            <p className="muted">
              Limits: {Math.round(setup.data.maxBodyBytes / 1024 / 1024)} MiB per request (OMEN_MAX_BODY_BYTES), {setup.data.labelLimits.maxLabels} labels per
              series. When the detection worker is more than {setup.data.maxWorkerLag.toLocaleString()} samples behind, writes get 503 (remote_write) or 429
              (OTLP, CSV) with Retry-After, and senders retry.
            </p>
          </>
        ) : (
          <p className="muted">{setup.isError ? `Could not load the ingest settings: ${setup.error.message}` : "Loading…"}</p>
        )}
      </section>
      <Can role="admin" otherwise={<p className="muted" data-testid="admin-only-note">Admins add and change sources and import CSV files.</p>}>
        <AddPrometheusSource />
        <CsvUpload />
      </Can>
    </div>
  );
}

function Snippet({ title, text }: { title: string; text: string }) {
  return (
    <div style={{ marginTop: 10 }}>
      <div className="muted">{title}</div>
      <pre style={{ background: "var(--bg)", border: "1px solid var(--border)", borderRadius: 6, padding: 8, overflowX: "auto", margin: "4px 0" }}>{text}</pre>
    </div>
  );
}

function SourceTable({ rows }: { rows: Source[] }) {
  if (rows.length === 0) return <p className="muted">No sources yet: the host collector appears within a few seconds of start.</p>;
  return (
    <table>
      <thead>
        <tr>
          <th>Name</th>
          <th>Kind</th>
          <th>Streams</th>
          <th>Cardinality limit</th>
          <th>Status</th>
          <th>
            <span className="sr-only">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((s) => (
          <SourceRowView key={s.id} s={s} />
        ))}
      </tbody>
    </table>
  );
}

function SourceRowView({ s }: { s: Source }) {
  const admin = useCan("admin");
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [limit, setLimit] = useState(String(s.cardinalityLimit));
  const save = useMutation(
    trpc.sources.setCardinalityLimit.mutationOptions({ onSuccess: () => qc.invalidateQueries({ queryKey: trpc.sources.list.queryKey() }) }),
  );
  const toggle = useMutation(
    trpc.sources.setEnabled.mutationOptions({ onSuccess: () => qc.invalidateQueries({ queryKey: trpc.sources.list.queryKey() }) }),
  );
  const near = s.streamCount >= 0.9 * s.cardinalityLimit;
  const p = s.prometheus;
  const [ask, setAsk] = useState<"delete" | "archive" | null>(null);
  const refresh = () => {
    setAsk(null);
    void qc.invalidateQueries({ queryKey: trpc.sources.list.queryKey() });
  };
  const del = useMutation(trpc.triage.deleteSource.mutationOptions({ onSuccess: refresh }));
  const archive = useMutation(trpc.sources.archive.mutationOptions({ onSuccess: refresh }));
  const archived = s.archivedAtMs !== null;
  const nowMs = Date.now();
  // A push source is "receiving" only while samples arrive; an import says how recent its data is.
  const status =
    !s.enabled
      ? "disabled"
      : s.kind === "csv"
        ? s.lastSampleAtMs === null
          ? "imported · waiting for the worker"
          : `imported · data up to ${new Date(s.lastSampleAtMs).toLocaleString()}`
        : s.lastSampleAtMs === null
          ? "waiting for data"
          : isStale(s.lastSampleAtMs, 0, nowMs)
            ? `silent · last sample ${formatAge(s.lastSampleAtMs, nowMs)}`
            : `receiving · last sample ${formatAge(s.lastSampleAtMs, nowMs)}`;
  return (
    <tr>
      <td>{s.name}</td>
      <td>
        {s.kind.replace("_", " ")}
        {s.managedByFile && (
          <span className="muted" title="Declared in omen.yaml: change it there">
            {" "}
            · omen.yaml
          </span>
        )}
      </td>
      <td className={near ? "error" : undefined} title={near ? "Close to the cardinality limit: new series will be rejected" : undefined}>
        {s.streamCount.toLocaleString()}
      </td>
      <td>
        {!admin ? (
          s.cardinalityLimit.toLocaleString()
        ) : (
          <form
            className="row"
            onSubmit={(e) => {
              e.preventDefault();
              save.mutate({ id: s.id, limit: Number(limit) });
            }}
          >
            <input
              type="number"
              min={1}
              aria-label={`Cardinality limit of ${s.name}`}
              value={limit}
              onChange={(e) => setLimit(e.target.value)}
              style={{ width: 110 }}
            />
            <button type="submit" disabled={save.isPending || Number(limit) === s.cardinalityLimit || !(Number(limit) >= 1)}>
              Save
            </button>
            {save.isError && <span className="error">{save.error.message}</span>}
          </form>
        )}
      </td>
      <td>
        {p ? (
          <span>
            {p.baseUrl} · {p.queries.length} quer{p.queries.length === 1 ? "y" : "ies"} · every {p.stepSeconds}s ·{" "}
            {p.lastError ? <span className="error">{p.lastError}</span> : p.cursorMs ? `up to ${new Date(p.cursorMs).toLocaleString()}` : "backfilling…"}{" "}
            {s.managedByFile || !admin ? (
              !s.enabled && <span className="muted">({s.managedByFile ? "removed from omen.yaml: " : ""}paused)</span>
            ) : (
              <button type="button" onClick={() => toggle.mutate({ id: s.id, enabled: !s.enabled })}>
                {s.enabled ? "Pause" : "Resume"}
              </button>
            )}
          </span>
        ) : (
          <span className="muted" data-testid="source-status">
            {status}
          </span>
        )}
      </td>
      <td>
        {archived ? (
          <span className="muted" data-testid="source-archived">
            archived{" "}
          </span>
        ) : null}
        {s.managedByFile || !admin ? null : (
          <span className="row">
            {archived ? (
              <button type="button" onClick={() => archive.mutate({ id: s.id, archived: false })} aria-label={`Restore source ${s.name}`}>
                Restore
              </button>
            ) : (
              <button type="button" onClick={() => setAsk("archive")} aria-label={`Archive source ${s.name}`}>
                Archive
              </button>
            )}
            <button type="button" className="danger" onClick={() => setAsk("delete")} aria-label={`Delete source ${s.name}`}>
              Delete
            </button>
          </span>
        )}
        <ConfirmDialog
          open={ask === "archive"}
          title={`Archive source ${s.name}?`}
          confirmLabel="Archive source"
          pending={archive.isPending}
          error={archive.error?.message}
          onConfirm={() => archive.mutate({ id: s.id, archived: true })}
          onCancel={() => setAsk(null)}
        >
          <p>
            Its {s.streamCount} streams leave the overview and stop raising anomalies (no alerts). Their history is kept, samples that still arrive are stored, and Restore
            brings them back.
          </p>
        </ConfirmDialog>
        <ConfirmDialog
          open={ask === "delete"}
          title={`Delete source ${s.name}?`}
          confirmLabel={`Delete ${s.name} and its ${s.streamCount} streams`}
          danger
          pending={del.isPending}
          error={del.error?.message}
          onConfirm={() => del.mutate({ id: s.id })}
          onCancel={() => setAsk(null)}
        >
          <p>
            Deletes the source and its {s.streamCount} streams with all their samples, scores, anomalies, labels and alert history. This cannot be undone; archive it to keep
            the history.
          </p>
        </ConfirmDialog>
      </td>
    </tr>
  );
}

function AddPrometheusSource() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [name, setName] = useState("prometheus-pull");
  const [baseUrl, setBaseUrl] = useState("http://127.0.0.1:9090");
  const [queries, setQueries] = useState("node_load1\ncpu_busy = 1 - avg by (instance) (rate(node_cpu_seconds_total{mode=\"idle\"}[1m]))");
  const [step, setStep] = useState("15");
  const [days, setDays] = useState("7");
  const test = useMutation(trpc.sources.testPrometheusQuery.mutationOptions());
  const save = useMutation(
    trpc.sources.savePrometheus.mutationOptions({ onSuccess: () => qc.invalidateQueries({ queryKey: trpc.sources.list.queryKey() }) }),
  );
  const parsed = parseQueryLines(queries);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate({ name, settings: { baseUrl, queries: parsed, stepSeconds: Number(step), backfillDays: Number(days) } });
  };
  const zodError = (save.error?.data as { zodError?: { fieldErrors?: Record<string, string[]> } } | undefined)?.zodError;
  return (
    <section className="panel" aria-labelledby="add-prom" style={{ marginTop: 12 }}>
      <h2 id="add-prom">Pull from Prometheus</h2>
      <p className="muted">
        Omen backfills up to 30 days with query_range, then follows every step. The detectors learn from the backfill (daily and weekly patterns
        included) and score it; anomalies found in it are listed but not alerted. Series keep their Prometheus labels; give a name to queries whose
        results have no metric name.
      </p>
      <form onSubmit={submit} style={{ display: "grid", gap: 8, maxWidth: 760 }}>
        <label>
          Name <input type="text" value={name} onChange={(e) => setName(e.target.value)} required />
        </label>
        <label>
          Prometheus base URL <input type="text" value={baseUrl} onChange={(e) => setBaseUrl(e.target.value)} style={{ width: 360 }} required />
        </label>
        <label>
          PromQL queries, one per line (optionally <code>name = query</code>)
          <textarea value={queries} onChange={(e) => setQueries(e.target.value)} rows={4} style={{ width: "100%", fontFamily: "monospace" }} />
        </label>
        <div className="row">
          <label>
            Step (s) <input type="number" min={1} max={3600} value={step} onChange={(e) => setStep(e.target.value)} style={{ width: 80 }} />
          </label>
          <label>
            Backfill (days) <input type="number" min={0} max={30} value={days} onChange={(e) => setDays(e.target.value)} style={{ width: 80 }} />
          </label>
        </div>
        <div className="row">
          <button type="button" disabled={!parsed[0] || test.isPending} onClick={() => parsed[0] && test.mutate({ baseUrl, query: parsed[0].query })}>
            {test.isPending ? "Testing…" : "Test first query"}
          </button>
          <button type="submit" className="primary" disabled={save.isPending}>
            Save source
          </button>
          {save.isSuccess && <span className="badge ok">saved: pulling within 5 s</span>}
        </div>
        {test.data &&
          (test.data.ok ? (
            <p role="status">
              {test.data.series} series now
              {test.data.examples.length > 0 && <>, e.g. <code>{JSON.stringify(test.data.examples[0])}</code></>}
            </p>
          ) : (
            <p className="error" role="alert">
              {test.data.error}
            </p>
          ))}
        {save.isError && (
          <p className="error" role="alert">
            {zodError?.fieldErrors ? Object.entries(zodError.fieldErrors).map(([k, v]) => `${k}: ${v.join(", ")}`).join("; ") || save.error.message : save.error.message}
          </p>
        )}
      </form>
    </section>
  );
}

/**
 * What the CSV form says when the connection dropped before Omen answered. An import commits in
 * chunks, so part of the file may be stored; sending it again is safe because samples already
 * stored are skipped. A check (dry run) stores nothing.
 */
function connectionLostMessage(dryRun: boolean): string {
  return dryRun
    ? "The connection to Omen was lost while checking the file. Nothing was stored; check the file again once the connection is back."
    : "The connection to Omen was lost during the upload. Part of the file may already be stored. Uploading the same file again is safe: samples already stored are skipped, not added twice.";
}

type CsvPreview = {
  rows: number;
  layout: string;
  streams: CsvPreviewStream[];
  groundTruth: { column: string; marked: number; ranges: number }[];
  /** samples at a time their stream has earlier in the file: not stored (the first is) */
  duplicates: number;
  duplicateExamples: string[];
};

/** Uploads with the signed-in session (admins); scripts use a token with the ingest scope. */
function CsvUpload() {
  const [file, setFile] = useState<File | null>(null);
  const [source, setSource] = useState("csv");
  const [metric, setMetric] = useState("");
  const [preview, setPreview] = useState<CsvPreview | null>(null);
  // kinds the user picked in the preview (new streams only), sent with the import
  const [chosen, setChosen] = useState<ReadonlyMap<string, CsvPreviewStream["kind"]>>(new Map());
  const [state, setState] = useState<{ busy: boolean; ok?: string; error?: string }>({ busy: false });
  const qc = useQueryClient();
  const trpc = useTRPC();
  const post = async (dryRun: boolean) => {
    const kinds = !dryRun && preview ? changedKinds(preview.streams, chosen) : null;
    const q = new URLSearchParams({
      source,
      file: file!.name,
      ...(metric.trim() ? { metric: metric.trim() } : {}),
      ...(kinds ? { kinds } : {}),
      ...(dryRun ? { dryRun: "1" } : {}),
    });
    let res: Response;
    let text: string;
    try {
      res = await fetch(`/api/v1/import/csv?${q.toString()}`, {
        method: "POST",
        headers: { "content-type": "text/csv" },
        body: file,
      });
      text = await res.text();
    } catch {
      // no answer at all: the browser's own words ("Failed to fetch", "Load failed") do not say
      // what happened to the file
      throw new Error(connectionLostMessage(dryRun));
    }
    type Reply = CsvPreview & { error?: string; inserted?: number; series?: number };
    let json: Reply;
    try {
      json = JSON.parse(text) as Reply;
    } catch {
      // an answer that is not Omen's (a proxy's error page)
      json = { error: `The server answered HTTP ${res.status} without saying why.` } as Reply;
    }
    return { res, json };
  };
  // Step 1: what the file would create (nothing stored); step 2: the import itself.
  const check = async (e: FormEvent) => {
    e.preventDefault();
    if (!file) return;
    setState({ busy: true });
    setPreview(null);
    setChosen(new Map());
    try {
      const { res, json } = await post(true);
      if (!res.ok) setState({ busy: false, error: json.error ?? `HTTP ${res.status}` });
      else {
        setPreview(json);
        setState({ busy: false });
      }
    } catch (err) {
      setState({ busy: false, error: (err as Error).message });
    }
  };
  const upload = async () => {
    if (!file) return;
    setState({ busy: true });
    try {
      const { res, json } = await post(false);
      if (!res.ok) setState({ busy: false, error: json.error ?? `HTTP ${res.status}` });
      else {
        setPreview(null);
        const counters = json.streams.filter((x) => x.kind === "counter" && x.kindFrom !== "stored").map((x) => x.key);
        const rated = counters.length ? ` Counters, scored by their rate: ${counters.slice(0, 10).join(", ")}${counters.length > 10 ? ` and ${counters.length - 10} more` : ""}.` : "";
        const repeats = json.duplicates ? ` ${describeRepeats(json.duplicates, json.duplicateExamples)}` : "";
        setState({ busy: false, ok: `Imported ${json.rows} rows (${json.layout} layout): ${json.inserted} new samples in ${json.series} streams.${rated}${repeats}` });
        void qc.invalidateQueries({ queryKey: trpc.sources.list.queryKey() });
      }
    } catch (err) {
      setState({ busy: false, error: (err as Error).message });
    }
  };
  return (
    <section className="panel" aria-labelledby="csv" style={{ marginTop: 12 }}>
      <h2 id="csv">Import CSV</h2>
      <p className="muted">
        Long <code>timestamp,stream,value</code> or wide <code>timestamp,&lt;stream&gt;,…</code> (one column per stream, empty = missing). Timestamps:
        ISO-8601 or epoch seconds/milliseconds. All-or-nothing: a bad line is reported and nothing is stored. A column that only rises, except to restart
        (a running total such as requests served), or is named like a Prometheus counter (<code>_total</code>) becomes a counter, scored by its rate;
        the check shows each stream&apos;s kind and lets you change it.
      </p>
      <form className="row" onSubmit={(e) => void check(e)}>
        <input
          type="file"
          accept=".csv,text/csv"
          aria-label="CSV file"
          onChange={(e) => {
            setFile(e.target.files?.[0] ?? null);
            setPreview(null);
          }}
        />
        <label>
          Source <input type="text" value={source} onChange={(e) => (setSource(e.target.value), setPreview(null))} style={{ width: 140 }} />
        </label>
        <label title="Names a generic value column; by default it is named after the file.">
          Metric name (optional) <input type="text" aria-label="Metric name" value={metric} onChange={(e) => (setMetric(e.target.value), setPreview(null))} style={{ width: 160 }} />
        </label>
        <button type="submit" disabled={!file || state.busy}>
          {state.busy && !preview ? "Reading…" : "Check file"}
        </button>
      </form>
      {preview ? (
        <div className="notice" data-testid="csv-preview" style={{ marginTop: 8 }}>
          <p style={{ marginTop: 0 }}>
            {preview.rows} rows ({preview.layout} layout) will create or extend {preview.streams.length} {preview.streams.length === 1 ? "stream" : "streams"} in source{" "}
            <strong>{source}</strong>:
          </p>
          <ul>
            {preview.streams.slice(0, 20).map((x) => (
              <li key={x.key} data-testid="csv-preview-stream">
                <code>{x.key}</code> · {x.samples} samples ·{" "}
                {x.kindFrom === "stored" ? (
                  x.kind
                ) : (
                  <select aria-label={`Kind of ${x.key}`} value={chosen.get(x.key) ?? x.kind} onChange={(e) => setChosen(new Map(chosen).set(x.key, e.target.value as CsvPreviewStream["kind"]))}>
                    <option value="gauge">gauge</option>
                    <option value="counter">counter</option>
                  </select>
                )}{" "}
                {(chosen.get(x.key) ?? x.kind) !== x.kind ? (
                  <span className="muted small">changed: detected as {x.kind}</span>
                ) : kindReason(x) ? (
                  <span className="muted small">{kindReason(x)}</span>
                ) : null}
              </li>
            ))}
            {preview.streams.length > 20 ? <li>… and {preview.streams.length - 20} more</li> : null}
          </ul>
          {preview.duplicates ? (
            <p className="small" data-testid="csv-duplicates">
              {describeRepeats(preview.duplicates, preview.duplicateExamples)}
            </p>
          ) : null}
          {preview.groundTruth.map((g) => (
            <p key={g.column} className="small">
              Column <code>{g.column}</code> is ground truth, not a metric: its {g.marked} marked rows ({g.ranges} range{g.ranges === 1 ? "" : "s"}) are stored as labelled
              anomalies on the imported streams (shown on their charts, scored by the backtest).
            </p>
          ))}
          <button type="button" className="primary" disabled={state.busy} onClick={() => void upload()}>
            {state.busy ? "Importing…" : `Import ${preview.streams.length} ${preview.streams.length === 1 ? "stream" : "streams"}`}
          </button>
        </div>
      ) : null}
      {state.ok && <p role="status">{state.ok}</p>}
      {state.error && (
        <p className="error" role="alert">
          {state.error}
        </p>
      )}
    </section>
  );
}

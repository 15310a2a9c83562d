"use client";
import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { formatTime } from "@/components/anomalies/anomaly-format";

export function SettingsHome() {
  const trpc = useTRPC();
  const file = useQuery(trpc.config.file.queryOptions());
  const history = useQuery(trpc.config.history.queryOptions());
  return (
    <div>
      <h1>Settings</h1>
      <div className="grid">
        <Link href="/settings/detectors" className="card">
          <div className="title">Detectors and thresholds</div>
          <p className="muted">Sensitivity, severity cut-offs, minimum duration, detectors, seasonality and mute windows per stream, group or source; backtest before saving; versioned and revertible.</p>
        </Link>
        <Link href="/settings/sources" className="card" prefetch={false}>
          <div className="title">Sources</div>
          <p className="muted">Where metrics come from: host collector, Prometheus remote write and pull, OTLP, CSV.</p>
        </Link>
        <Link href="/settings/models" className="card">
          <div className="title">Models</div>
          <p className="muted">Snapshots of the detectors' learnt state; take one now or roll back to an earlier one.</p>
        </Link>
        <Link href="/settings/users" className="card" prefetch={false}>
          <div className="title">Users</div>
          <p className="muted">Accounts and roles: viewer, operator, admin (admins only).</p>
        </Link>
        <Link href="/settings/tokens" className="card" prefetch={false}>
          <div className="title">API tokens</div>
          <p className="muted">Tokens for senders and scripts with ingest, read or admin scope; shown once, revocable, rotatable (admins only).</p>
        </Link>
        <div className="card" data-testid="config-file">
          <div className="title">Settings as code</div>
          {!file.data ? (
            <p className="muted">…</p>
          ) : !file.data.present ? (
            <p className="muted">
              No <code>{file.data.path}</code>. Create it to manage settings as code (file-managed settings show read-only here).
            </p>
          ) : file.data.errors.length ? (
            <>
              <p className="error">
                <code>{file.data.path}</code> is invalid; the previous settings stay in force:
              </p>
              <pre className="errors">{file.data.errors.join("\n")}</pre>
            </>
          ) : (
            <p>
              <code>{file.data.path}</code> is valid: {file.data.rules} block(s) applied by the worker.
            </p>
          )}
        </div>
      </div>
      <h2>Recent configuration changes</h2>
      <table data-testid="recent-changes">
        <thead>
          <tr>
            <th>When</th>
            <th>Scope</th>
            <th>Version</th>
            <th>Who</th>
            <th>Note</th>
          </tr>
        </thead>
        <tbody>
          {(history.data ?? []).map((v) => (
            <tr key={v.id}>
              <td>{formatTime(v.createdAtMs)}</td>
              <td>
                <Link href={`/settings/detectors?scope=${v.scope}${v.scopeRef ? `&ref=${encodeURIComponent(v.scopeRef)}` : ""}`}>
                  {v.scope}
                  {v.scopeRef ? ` ${v.scopeRef}` : ""}
                </Link>
              </td>
              <td>v{v.version}</td>
              <td>{v.author}</td>
              <td>{v.note}</td>
            </tr>
          ))}
          {history.data && history.data.length === 0 ? (
            <tr>
              <td colSpan={5} className="muted">
                No changes yet.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </div>
  );
}

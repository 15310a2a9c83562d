"use client";
import { Can, useCan } from "@/components/access/can";
import Link from "next/link";
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC, type RouterOutputs } from "@/components/trpc/client";
import { formatTime } from "@/components/anomalies/anomaly-format";
import type { TAlertRule } from "@/lib/alerts/schema";
import { RuleForm } from "./rule-form";
import { CHANNEL_TEXT, describeSelectors, displayUrl } from "./rule-form-state";

type Delivery = RouterOutputs["alerts"]["deliveries"][number];

function RulesTable({ rules, onEdit }: { rules: TAlertRule[]; onEdit: (r: TAlertRule) => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [confirming, setConfirming] = useState<number | null>(null);
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.alerts.pathKey() });
  const toggle = useMutation(trpc.alerts.setEnabled.mutationOptions({ onSuccess: refresh }));
  const admin = useCan("admin");
  const remove = useMutation(trpc.alerts.remove.mutationOptions({ onSuccess: refresh }));
  if (!rules.length) return <p className="muted">No alert rules yet. Create one to get notified about anomalies.</p>;
  return (
    <table data-testid="rules-table" aria-label="Alert rules">
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Channel</th>
          <th scope="col">Selects</th>
          <th scope="col">Receiver</th>
          <th scope="col" className="num">
            Cooldown
          </th>
          <th scope="col">Enabled</th>
          <th scope="col">
            <span className="sr-only">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {rules.map((r) => (
          <tr key={r.id} data-testid="rule-row">
            <th scope="row">{r.name}</th>
            <td>{CHANNEL_TEXT[r.channel]}</td>
            <td className="small">
              {describeSelectors(r)}
              {r.notifyResolve ? " · on resolve" : ""}
            </td>
            <td className="mono ellipsis" title={displayUrl(r.url)}>
              {displayUrl(r.url)}
            </td>
            <td className="num">{r.cooldownSec}s</td>
            <td>
              <button
                type="button"
                disabled={!admin}
                aria-pressed={r.enabled}
                aria-label={`Enabled: ${r.name}`}
                className="toggle"
                onClick={() => toggle.mutate({ id: r.id, enabled: !r.enabled })}
              >
                {r.enabled ? "On" : "Off"}
              </button>
            </td>
            <td className="row-actions">
              {admin ? (
                <>
                  <button type="button" aria-label={`Edit ${r.name}`} onClick={() => onEdit(r)}>
                    Edit
                  </button>
                  {confirming === r.id ? (
                    <>
                      <button type="button" className="danger" aria-label={`Confirm delete ${r.name}`} onClick={() => remove.mutate({ id: r.id })}>
                        Confirm delete
                      </button>
                      <button type="button" onClick={() => setConfirming(null)}>
                        Keep
                      </button>
                    </>
                  ) : (
                    <button type="button" aria-label={`Delete ${r.name}`} onClick={() => setConfirming(r.id)}>
                      Delete
                    </button>
                  )}
                </>
              ) : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const STATUS_CLASS: Record<Delivery["status"], string> = { sent: "ok", failed: "high", pending: "low", suppressed: "" };

function deliveryNote(d: Delivery): string {
  if (d.status === "sent") return d.sentAtMs ? `sent ${formatTime(d.sentAtMs)}` : "";
  if (d.status === "suppressed") return "within the rule's cooldown";
  const retry = d.nextAttemptAtMs ? ` · retry ${formatTime(d.nextAttemptAtMs)}` : d.status === "failed" ? " · gave up" : "";
  return `${d.error ?? ""}${retry}`;
}

function DeliveriesLog({ rules }: { rules: TAlertRule[] }) {
  const trpc = useTRPC();
  const [ruleId, setRuleId] = useState<number | undefined>(undefined);
  const q = useQuery(trpc.alerts.deliveries.queryOptions({ ruleId, limit: 100 }, { refetchInterval: 5_000 }));
  const qc = useQueryClient();
  const retry = useMutation(trpc.triage.retryDelivery.mutationOptions({ onSuccess: () => qc.invalidateQueries({ queryKey: trpc.alerts.deliveries.queryKey() }) }));
  const mayRetry = useCan("operator");
  const gaveUp = (q.data ?? []).filter((d) => d.status === "failed" && d.nextAttemptAtMs === null);
  return (
    <section aria-labelledby="deliveries-title">
      <div className="row">
        <h2 id="deliveries-title">Recent deliveries</h2>
        <label className="small">
          Rule{" "}
          <select value={ruleId ?? ""} onChange={(e) => setRuleId(e.target.value ? Number(e.target.value) : undefined)}>
            <option value="">all</option>
            {rules.map((r) => (
              <option key={r.id} value={r.id}>
                {r.name}
              </option>
            ))}
          </select>
        </label>
      </div>
      {gaveUp.length ? (
        <p className="error" role="alert" data-testid="deliveries-gave-up">
          {gaveUp.length} {gaveUp.length === 1 ? "delivery" : "deliveries"} gave up after repeated failures: the receiver did not get {gaveUp.length === 1 ? "it" : "them"}. Retry below once it is back.
        </p>
      ) : null}
      {retry.error ? <p className="error">{retry.error.message}</p> : null}
      <table data-testid="deliveries-table" aria-label="Recent deliveries">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Rule</th>
            <th scope="col">Event</th>
            <th scope="col">Incident</th>
            <th scope="col">Severity</th>
            <th scope="col">Status</th>
            <th scope="col" className="num">
              Attempts
            </th>
            <th scope="col" className="num">
              HTTP
            </th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {(q.data ?? []).map((d) => (
            <tr key={d.id}>
              <td>{formatTime(d.createdAtMs)}</td>
              <td>{d.ruleName}</td>
              <td>{d.event}</td>
              <td className="mono ellipsis" title={d.streamKey}>
                <Link href={`/incidents/${d.incidentId}`}>#{d.incidentId}</Link> <Link href={`/anomalies/${d.anomalyId}`}>{d.streamKey}</Link>
              </td>
              <td>
                <span className={`badge ${d.severity}`}>{d.severity}</span>
              </td>
              <td>
                <span className={`badge ${STATUS_CLASS[d.status]}`}>{d.status}</span>
              </td>
              <td className="num">{d.attempts}</td>
              <td className="num">{d.httpStatus ?? "—"}</td>
              <td className="small ellipsis" title={deliveryNote(d)}>
                {d.status === "failed" && d.nextAttemptAtMs === null && mayRetry ? (
                  <button type="button" disabled={retry.isPending} onClick={() => retry.mutate({ id: d.id })} aria-label={`Retry delivery ${d.id}`}>
                    Retry
                  </button>
                ) : null}{" "}
                {deliveryNote(d)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {/* below the table, not in a row of it: on a phone the table scrolls sideways and would cut the sentence */}
      {q.data && q.data.length === 0 ? (
        <p className="muted" data-testid="deliveries-empty">
          Nothing sent yet. Deliveries appear here when a rule matches an incident.
        </p>
      ) : null}
    </section>
  );
}

export function AlertsHome() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const rules = useQuery(trpc.alerts.rules.queryOptions());
  const [editing, setEditing] = useState<TAlertRule | "new" | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const done = (saved: TAlertRule | null) => {
    if (saved) {
      setNotice(`Saved rule “${saved.name}”.`);
      void qc.invalidateQueries({ queryKey: trpc.alerts.pathKey() });
    }
    setEditing(null);
  };
  return (
    <div>
      <div className="row">
        <h1>Alerts</h1>
        {editing === null ? (
          <Can role="admin">
            <button type="button" className="primary" onClick={() => (setNotice(null), setEditing("new"))}>
              New rule
            </button>
          </Can>
        ) : null}
      </div>
      <p className="muted">
        Rules send anomalies that open, escalate or resolve to a webhook, Slack or Alertmanager, with the stream, severity, score, summary, expected vs
        actual value, probable origin and a link back here.
      </p>
      {notice ? (
        <p className="notice" role="status">
          {notice}
        </p>
      ) : null}
      {editing !== null ? <RuleForm key={editing === "new" ? "new" : editing.id} rule={editing === "new" ? null : editing} onDone={done} /> : null}
      <h2>Rules</h2>
      {rules.isError ? <p className="error">Could not load rules: {rules.error.message}</p> : null}
      {rules.data ? <RulesTable rules={rules.data} onEdit={(r) => (setNotice(null), setEditing(r))} /> : <p className="muted">…</p>}
      <DeliveriesLog rules={rules.data ?? []} />
    </div>
  );
}

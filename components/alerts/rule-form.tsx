"use client";
import { useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { parseHeaderLines, ZAlertChannel, type TAlertRule } from "@/lib/alerts/schema";
import { SEVERITIES, TYPES } from "@/components/anomalies/anomaly-format";
import { CHANNEL_TEXT, EMPTY_FORM, formFromRule, parseRuleForm, type FieldErrors, type RuleFormState } from "./rule-form-state";

const URL_HINT: Record<RuleFormState["channel"], string> = {
  webhook: "Receives Omen's JSON document (see docs/alerts.md).",
  slack: "A Slack incoming-webhook URL (https://hooks.slack.com/services/…).",
  alertmanager: "Alertmanager base URL; /api/v2/alerts is added when no path is given.",
};

function Field({ id, label, error, hint, children }: { id: string; label: string; error?: string; hint?: string; children: React.ReactNode }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children}
      {hint ? (
        <span className="muted hint" id={`${id}-hint`}>
          {hint}
        </span>
      ) : null}
      {error ? (
        <span className="field-error" id={`${id}-error`}>
          {error}
        </span>
      ) : null}
    </div>
  );
}

/** Accessibility attributes tying an input to its hint and error. */
function described(id: string, error: string | undefined, hint: boolean) {
  const ids = [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(" ");
  return { id, "aria-invalid": error ? true : undefined, "aria-describedby": ids || undefined };
}

export function RuleForm({ rule, onDone }: { rule: TAlertRule | null; onDone: (saved: TAlertRule | null) => void }) {
  const trpc = useTRPC();
  const [f, setF] = useState<RuleFormState>(rule ? formFromRule(rule) : EMPTY_FORM);
  const [errors, setErrors] = useState<FieldErrors>({});
  const set = <K extends keyof RuleFormState>(k: K, v: RuleFormState[K]) => setF((s) => ({ ...s, [k]: v }));
  const create = useMutation(trpc.alerts.create.mutationOptions());
  const update = useMutation(trpc.alerts.update.mutationOptions());
  const test = useMutation(trpc.alerts.sendTest.mutationOptions());
  const saving = create.isPending || update.isPending;
  const serverError = create.error?.message ?? update.error?.message ?? null;

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    const parsed = parseRuleForm(f);
    if (!parsed.ok) {
      setErrors(parsed.errors);
      const first = Object.keys(parsed.errors)[0];
      if (first) document.getElementById(`rule-${first}`)?.focus();
      return;
    }
    setErrors({});
    try {
      const saved = rule ? await update.mutateAsync({ id: rule.id, rule: parsed.value }) : await create.mutateAsync(parsed.value);
      onDone(saved);
    } catch {
      /* shown below */
    }
  };

  const sendTest = () => {
    const { headers, badLines } = parseHeaderLines(f.headers);
    const parsed = parseRuleForm({ ...f, name: f.name || "test" });
    if (!parsed.ok && (parsed.errors.url || badLines.length)) {
      setErrors({ url: parsed.errors.url, headers: parsed.errors.headers });
      return;
    }
    test.mutate({ name: f.name, channel: f.channel, url: f.url, headers });
  };

  const errorCount = Object.keys(errors).length;
  return (
    <form className="panel rule-form" onSubmit={submit} noValidate aria-labelledby="rule-form-title">
      <h2 id="rule-form-title">{rule ? `Edit rule “${rule.name}”` : "New alert rule"}</h2>
      {errorCount ? (
        <p className="error" role="alert">
          Please fix {errorCount === 1 ? "the highlighted field" : `${errorCount} highlighted fields`}.
        </p>
      ) : null}
      <div className="form-grid">
        <Field id="rule-name" label="Name" error={errors.name}>
          <input type="text" {...described("rule-name", errors.name, false)} value={f.name} onChange={(e) => set("name", e.target.value)} autoFocus required />
        </Field>
        <Field id="rule-channel" label="Channel">
          <select id="rule-channel" value={f.channel} onChange={(e) => set("channel", ZAlertChannel.parse(e.target.value))}>
            {ZAlertChannel.options.map((c) => (
              <option key={c} value={c}>
                {CHANNEL_TEXT[c]}
              </option>
            ))}
          </select>
        </Field>
        <Field id="rule-url" label="URL" error={errors.url} hint={URL_HINT[f.channel]}>
          <input type="text" inputMode="url" {...described("rule-url", errors.url, true)} value={f.url} onChange={(e) => set("url", e.target.value)} placeholder="https://…" required />
        </Field>
        <Field id="rule-minSeverity" label="Minimum severity">
          <select id="rule-minSeverity" value={f.minSeverity} onChange={(e) => set("minSeverity", e.target.value as RuleFormState["minSeverity"])}>
            {[...SEVERITIES].reverse().map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </Field>
        <Field id="rule-metric" label="Metric (optional)" error={errors.metric} hint="Glob with * and ?, or any part of the name">
          <input type="text" {...described("rule-metric", errors.metric, true)} value={f.metric} onChange={(e) => set("metric", e.target.value)} placeholder="api_* or latency" />
        </Field>
        <Field id="rule-sourceName" label="Source (optional)" error={errors.sourceName}>
          <input type="text" {...described("rule-sourceName", errors.sourceName, false)} value={f.sourceName} onChange={(e) => set("sourceName", e.target.value)} />
        </Field>
        <Field id="rule-group" label="Group (optional)" error={errors.group}>
          <input type="text" {...described("rule-group", errors.group, false)} value={f.group} onChange={(e) => set("group", e.target.value)} />
        </Field>
        <Field id="rule-cooldownSec" label="Cooldown (seconds)" error={errors.cooldownSec} hint="Per stream: no new alert from this rule within this time">
          <input type="number" min={0} step={1} {...described("rule-cooldownSec", errors.cooldownSec, true)} value={f.cooldownSec} onChange={(e) => set("cooldownSec", e.target.value)} />
        </Field>
      </div>
      <fieldset className="types">
        <legend>Anomaly types (none checked: all)</legend>
        <div className="row">
          {TYPES.map((t) => (
            <label key={t}>
              <input
                type="checkbox"
                checked={f.types.includes(t)}
                onChange={(e) => set("types", e.target.checked ? [...f.types, t] : f.types.filter((x) => x !== t))}
              />{" "}
              {t}
            </label>
          ))}
        </div>
      </fieldset>
      <div className="form-grid">
        <Field id="rule-headers" label="Extra headers (optional)" error={errors.headers} hint="One per line: Name: value (e.g. Authorization: Bearer …)">
          <textarea rows={3} {...described("rule-headers", errors.headers, true)} value={f.headers} onChange={(e) => set("headers", e.target.value)} spellCheck={false} />
        </Field>
        <div className="field checks">
          <label>
            <input type="checkbox" checked={f.notifyResolve} onChange={(e) => set("notifyResolve", e.target.checked)} /> Notify when resolved
          </label>
          <label>
            <input type="checkbox" checked={f.enabled} onChange={(e) => set("enabled", e.target.checked)} /> Enabled
          </label>
        </div>
      </div>
      {serverError ? (
        <p className="error" role="alert">
          Could not save: {serverError}
        </p>
      ) : null}
      <div className="row actions">
        <button type="submit" className="primary" disabled={saving}>
          {saving ? "Saving…" : rule ? "Save changes" : "Create rule"}
        </button>
        <button type="button" onClick={sendTest} disabled={test.isPending}>
          {test.isPending ? "Sending…" : "Send test"}
        </button>
        <button type="button" onClick={() => onDone(null)}>
          Cancel
        </button>
        <span role="status" aria-live="polite" data-testid="test-result" className="test-result">
          {test.data ? (
            test.data.ok ? (
              <span className="ok-text">
                ✓ Test delivered: HTTP {test.data.httpStatus} in {test.data.elapsedMs} ms
              </span>
            ) : (
              <span className="error">✗ Test failed: {test.data.error}</span>
            )
          ) : test.error ? (
            <span className="error">✗ {test.error.message}</span>
          ) : null}
        </span>
      </div>
    </form>
  );
}

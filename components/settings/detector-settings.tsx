"use client";
import { useCan } from "@/components/access/can";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useEffect, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC, type RouterOutputs } from "@/components/trpc/client";
import { formatTime } from "@/components/anomalies/anomaly-format";
import { SEASONALITY, type TConfigScope, type TMuteWindow } from "@/lib/config/settings";
import { formatNumberInput, parseNumberInput } from "@/lib/forms/number-input";
import { toOverrides, type FormState } from "./settings-form";
import { BacktestPanel } from "./backtest-panel";
import { Breadcrumbs } from "@/components/ui/breadcrumbs";

type Described = RouterOutputs["config"]["get"];
const SCOPES: TConfigScope[] = ["global", "source", "group", "stream"];

function ScopePicker({ scope, ref_, onChange }: { scope: TConfigScope; ref_: string; onChange: (s: TConfigScope, r: string) => void }) {
  const trpc = useTRPC();
  const opts = useQuery(trpc.config.scopes.queryOptions({}));
  const d = opts.data;
  const configured = new Set((d?.configured ?? []).map((c) => `${c.scope}:${c.ref}`));
  const mark = (s: string, r: string) => (configured.has(`${s}:${r}`) ? " •" : "");
  return (
    <div className="row panel" role="group" aria-label="Choose scope">
      <label htmlFor="scope-type">Scope</label>
      <select id="scope-type" value={scope} onChange={(e) => onChange(e.target.value as TConfigScope, "")}>
          {SCOPES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
      </select>
      {scope === "source" ? (
        <>
          <label htmlFor="scope-source">Source</label>
          <select id="scope-source" value={ref_} onChange={(e) => onChange(scope, e.target.value)}>
            <option value="">choose…</option>
            {d?.sources.map((s) => (
              <option key={s.id} value={String(s.id)}>
                {s.name} ({s.streams}){mark("source", String(s.id))}
              </option>
            ))}
          </select>
        </>
      ) : null}
      {scope === "group" ? (
        <>
          <label htmlFor="scope-group">Group</label>
          <select id="scope-group" value={ref_} onChange={(e) => onChange(scope, e.target.value)}>
            <option value="">choose…</option>
            {d?.groups.map((g) => (
              <option key={g.group} value={g.group}>
                {g.group} ({g.streams}){mark("group", g.group)}
              </option>
            ))}
          </select>
        </>
      ) : null}
      {scope === "stream" ? (
        <>
          <label htmlFor="scope-stream">Stream</label>
          <select id="scope-stream" value={ref_} onChange={(e) => onChange(scope, e.target.value)} style={{ maxWidth: 520 }}>
            <option value="">choose…</option>
            {d?.streams.map((s) => (
              <option key={s.id} value={String(s.id)}>
                {s.key}
                {mark("stream", String(s.id))}
              </option>
            ))}
          </select>
        </>
      ) : null}
      <span className="muted">• = has its own settings</span>
    </div>
  );
}

/**
 * A number field that keeps the text as typed: `-3` stays "-3" and is refused in words (a browser
 * number input showed "03" and saved 3), `.5` is 0.5, a cleared field is "required", not 0.
 * Only valid values reach the form; `onValidity` tells the form which fields block saving.
 */
function NumberField({
  label,
  value,
  onChange,
  min,
  max,
  step,
  disabled,
  hint,
  integer,
  onValidity,
}: {
  label: string;
  value: number;
  onChange: (v: number) => void;
  min: number;
  max: number;
  step: number;
  disabled: boolean;
  hint?: string;
  integer?: boolean;
  onValidity: (id: string, error: string | null) => void;
}) {
  const id = `f-${label.replace(/\W+/g, "-").toLowerCase()}`;
  const rule = { label, min, max, integer };
  const [text, setText] = useState(formatNumberInput(value));
  const [error, setError] = useState<string | null>(null);
  // A new value from outside (another scope, a revert) replaces the text unless it already says so.
  useEffect(() => {
    const p = parseNumberInput(text, rule);
    if (!p.ok || p.value !== value) {
      setText(formatNumberInput(value));
      setError(null);
      onValidity(id, null);
    }
  }, [value]);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="text"
        inputMode="decimal"
        value={text}
        disabled={disabled}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        data-step={step}
        onChange={(e) => {
          setText(e.target.value);
          const p = parseNumberInput(e.target.value, rule);
          if (p.ok && p.value !== null) {
            setError(null);
            onValidity(id, null);
            onChange(p.value);
          } else {
            const msg = p.ok ? `${label} is required.` : p.error;
            setError(msg);
            onValidity(id, msg);
          }
        }}
      />
      {error ? (
        <span id={`${id}-error`} className="field-error" role="alert">
          {error}
        </span>
      ) : hint ? (
        <span className="muted hint">{hint}</span>
      ) : null}
    </div>
  );
}

function Editor({ d }: { d: Described }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const fileManaged = d.current?.managedBy === "file";
  const mayEdit = useCan("operator");
  const readOnly = fileManaged || !mayEdit;
  const [form, setForm] = useState<FormState>(d.effective);
  const ownMute = (d.current?.settings.muteWindows ?? []) as TMuteWindow[];
  const [mute, setMute] = useState<TMuteWindow[]>(ownMute);
  const [newMute, setNewMute] = useState({ start: "02:00", end: "03:00", note: "" });
  const [note, setNote] = useState("");
  const proposed = toOverrides(form, d.inherited, d.current?.settings ?? {}, mute);
  const target = { scope: d.scope, ref: d.ref };
  const invalidate = () => qc.invalidateQueries({ queryKey: trpc.config.pathKey() });
  const save = useMutation(trpc.config.save.mutationOptions({ onSuccess: invalidate }));
  const revert = useMutation(trpc.config.revert.mutationOptions({ onSuccess: invalidate }));
  const set = (patch: Partial<FormState>) => setForm((f) => ({ ...f, ...patch }));
  const inheritedMute = d.inherited.muteWindows;
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const onValidity = (id: string, err: string | null) =>
    setInvalid((m) => {
      if ((m[id] ?? null) === err) return m;
      const next = { ...m };
      if (err) next[id] = err;
      else delete next[id];
      return next;
    });
  const blocked = Object.keys(invalid).length > 0;

  return (
    <div>
      {fileManaged ? (
        <p className="notice" role="note" data-testid="read-only">
          Managed by <code>omen.yaml</code>: read-only here. Change the file; the worker applies it within 10 seconds.
        </p>
      ) : !mayEdit ? (
        <p className="notice" role="note" data-testid="read-only">
          Read-only for viewers: operators and admins change thresholds.
        </p>
      ) : null}
      <fieldset className="panel form-grid" disabled={readOnly}>
        <legend>Thresholds and detectors</legend>
        <div className="field">
          <label>
            <input type="checkbox" checked={form.enabled} onChange={(e) => set({ enabled: e.target.checked })} /> Detection enabled
          </label>
        </div>
        <NumberField label="Sensitivity" value={form.sensitivity} min={0.1} max={5} step={0.1} disabled={readOnly} onValidity={onValidity} onChange={(v) => set({ sensitivity: v })} hint="1 = default; lower is quieter" />
        <NumberField label="Low cut-off" value={form.severity.low} min={0} max={100} step={1} disabled={readOnly} onValidity={onValidity} onChange={(v) => set({ severity: { ...form.severity, low: v } })} />
        <NumberField label="Medium cut-off" value={form.severity.medium} min={0} max={100} step={1} disabled={readOnly} onValidity={onValidity} onChange={(v) => set({ severity: { ...form.severity, medium: v } })} />
        <NumberField label="High cut-off" value={form.severity.high} min={0} max={100} step={1} disabled={readOnly} onValidity={onValidity} onChange={(v) => set({ severity: { ...form.severity, high: v } })} />
        <NumberField label="Minimum duration (s)" integer value={form.minDurationSec} min={0} max={86400} step={10} disabled={readOnly} onValidity={onValidity} onChange={(v) => set({ minDurationSec: v })} />
        <div className="field">
          <span className="label">Detectors</span>
          <label>
            <input type="checkbox" checked={form.detectors.univariate} onChange={(e) => set({ detectors: { ...form.detectors, univariate: e.target.checked } })} /> Per-stream ensemble
          </label>
          <label>
            <input type="checkbox" checked={form.detectors.gaps} onChange={(e) => set({ detectors: { ...form.detectors, gaps: e.target.checked } })} /> Gaps (silent streams)
          </label>
          {d.scope === "global" ? (
            <label>
              <input type="checkbox" checked={form.detectors.multivariate} onChange={(e) => set({ detectors: { ...form.detectors, multivariate: e.target.checked } })} /> Cross-stream (multivariate)
            </label>
          ) : null}
        </div>
        <div className="field">
          <label htmlFor="f-seasonality">Seasonality</label>
          <select id="f-seasonality" value={form.seasonality} onChange={(e) => set({ seasonality: e.target.value as FormState["seasonality"] })}>
            {SEASONALITY.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
          <span className="muted hint">auto-detected by the engine today</span>
        </div>
        <NumberField label="Training window (days)" integer value={form.trainingWindowDays} min={1} max={365} step={1} disabled={readOnly} onValidity={onValidity} onChange={(v) => set({ trainingWindowDays: v })} />
        {d.scope === "global" ? (
          <>
            <NumberField label="Minimum training samples" integer value={form.minTrainingSamples} min={10} max={100000} step={10} disabled={readOnly} onValidity={onValidity} onChange={(v) => set({ minTrainingSamples: v })} />
            <NumberField label="Band width (sigmas)" value={form.bandSigmas} min={1} max={10} step={0.5} disabled={readOnly} onValidity={onValidity} onChange={(v) => set({ bandSigmas: v })} hint="expected range = forecast ± this many sigmas" />
          </>
        ) : null}
      </fieldset>

      <fieldset className="panel" disabled={readOnly}>
        <legend>Mute windows (UTC)</legend>
        {inheritedMute.length ? (
          <p className="muted">
            Inherited: {inheritedMute.map((w) => (w.kind === "daily" ? `daily ${w.start}–${w.end}` : `${w.from} → ${w.to}`)).join("; ")}
          </p>
        ) : null}
        <ul data-testid="mute-windows">
          {mute.map((w, i) => (
            <li key={i}>
              {w.kind === "daily" ? `daily ${w.start}–${w.end}${w.days ? ` (${w.days.join(", ")})` : ""}` : `${w.from} → ${w.to}`}
              {w.note ? ` · ${w.note}` : ""}{" "}
              <button type="button" aria-label={`Remove mute window ${i + 1}`} onClick={() => setMute(mute.filter((_, k) => k !== i))}>
                Remove
              </button>
            </li>
          ))}
          {mute.length === 0 ? <li className="muted">None on this scope.</li> : null}
        </ul>
        <div className="row">
          <label>
            From <input type="time" aria-label="Mute from" value={newMute.start} onChange={(e) => setNewMute({ ...newMute, start: e.target.value })} />
          </label>
          <label>
            to <input type="time" aria-label="Mute to" value={newMute.end} onChange={(e) => setNewMute({ ...newMute, end: e.target.value })} />
          </label>
          <input type="text" aria-label="Mute note" size={28} placeholder="note (e.g. nightly backup)" value={newMute.note} onChange={(e) => setNewMute({ ...newMute, note: e.target.value })} />
          <button
            type="button"
            onClick={() => setMute([...mute, { kind: "daily", start: newMute.start, end: newMute.end, ...(newMute.note ? { note: newMute.note } : {}) }])}
          >
            Add daily mute window
          </button>
        </div>
      </fieldset>

      <BacktestPanel target={target} proposed={proposed} blocked={blocked || !mayEdit} />

      <div className="row" style={{ marginTop: 12 }}>
        <input type="text" aria-label="Change note" placeholder="Why? (optional note for the history)" value={note} onChange={(e) => setNote(e.target.value)} style={{ width: 360 }} disabled={readOnly} />
        <button
          type="button"
          className="primary"
          disabled={readOnly || save.isPending || blocked}
          onClick={() => save.mutate({ target, settings: proposed, note: note || undefined, expectedVersion: d.current?.version ?? 0 }, { onSuccess: () => setNote("") })}
        >
          Save settings
        </button>
        {save.isSuccess ? (
          <span role="status" className="ok-text">
            Saved as version {save.data.version}.
          </span>
        ) : null}
        {save.error ? <span className="error">{save.error.message}</span> : null}
        {blocked ? (
          <span className="error" data-testid="form-blocked">
            Fix {Object.keys(invalid).length === 1 ? "the field" : "the fields"} above to save: {Object.values(invalid).join(" ")}
          </span>
        ) : null}
      </div>

      <section aria-labelledby="hist-h">
        <h2 id="hist-h">History</h2>
        <table data-testid="config-history">
          <thead>
            <tr>
              <th>Version</th>
              <th>When</th>
              <th>Who</th>
              <th>What changed</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {d.versions.map((v) => (
              <tr key={v.id}>
                <td>v{v.version}</td>
                <td>{formatTime(v.createdAtMs)}</td>
                <td>{v.author}</td>
                <td>
                  {v.changes.length ? v.changes.join("; ") : <span className="muted">no field changes</span>}
                  {v.note && v.note !== v.changes.join("; ") ? <div className="muted small">{v.note}</div> : null}
                </td>
                <td>
                  {v.version !== d.current?.version ? (
                    <button type="button" disabled={readOnly || revert.isPending} onClick={() => revert.mutate({ versionId: v.id })} aria-label={`Revert to version ${v.version}`}>
                      Revert
                    </button>
                  ) : (
                    <span className="muted">current</span>
                  )}
                </td>
              </tr>
            ))}
            {d.versions.length === 0 ? (
              <tr>
                <td colSpan={5} className="muted">
                  No changes yet: this scope inherits everything.
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
        {revert.error ? <p className="error">{revert.error.message}</p> : null}
      </section>
    </div>
  );
}

export function DetectorSettings() {
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const scope = (SCOPES as string[]).includes(params.get("scope") ?? "") ? (params.get("scope") as TConfigScope) : "global";
  const ref = params.get("ref") ?? "";
  const ready = scope === "global" || ref !== "";
  const described = useQuery({ ...trpc.config.get.queryOptions({ scope, ref }), enabled: ready });
  // the picker's list (same cached query): sources and streams are named, not shown by internal id
  const scopes = useQuery(trpc.config.scopes.queryOptions({}));
  const refName =
    scope === "source"
      ? scopes.data?.sources.find((s) => String(s.id) === ref)?.name
      : scope === "stream"
        ? scopes.data?.streams.find((s) => String(s.id) === ref)?.key
        : ref;
  const onChange = (s: TConfigScope, r: string) => router.replace(`${pathname}?scope=${s}${r ? `&ref=${encodeURIComponent(r)}` : ""}`, { scroll: false });
  // Re-mount the editor when the scope or the stored version changes (fresh form state).
  const editorKey = `${scope}:${ref}:${described.data?.current?.version ?? 0}`;
  return (
    <div>
      <Breadcrumbs trail={[{ label: "Settings", href: "/settings" }, { label: "Detectors and thresholds" }]} />
      <h1>Detectors and thresholds</h1>
      <ScopePicker scope={scope} ref_={ref} onChange={onChange} />
      {!ready ? <p className="muted">Choose a {scope} to edit.</p> : null}
      {described.isError ? <p className="error">{described.error.message}</p> : null}
      {ready && described.data ? (
        <>
          <p className="muted" data-testid="scope-summary">
            Editing <strong>{scope}</strong>
            {ref ? ` ${refName ?? ref}` : ""} · {described.data.current ? `version ${described.data.current.version} by ${described.data.current.updatedBy}, ${formatTime(described.data.current.updatedAtMs)}` : "no own settings (inherits)"}
            {described.data.current ? ` · managed by ${described.data.current.managedBy === "file" ? "omen.yaml" : "the UI"}` : ""}
          </p>
          <Editor key={editorKey} d={described.data} />
        </>
      ) : null}
    </div>
  );
}

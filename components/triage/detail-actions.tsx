"use client";
import Link from "next/link";
import { LABEL_TEXT, LABELS } from "@/components/anomalies/anomaly-format";
import type { TAnomalyLabel, TAnomalyStatus } from "@/lib/schemas/stream";

/** Pieces the anomaly page and the incident page share: status and label buttons, the streams list. */

/** Acknowledge / Resolve / Reopen; the one matching the current status is disabled. */
export function StatusButtons({ status, busy, onStatus }: { status: TAnomalyStatus; busy: boolean; onStatus: (s: TAnomalyStatus) => void }) {
  return (
    <>
      <button type="button" disabled={busy || status === "acknowledged"} onClick={() => onStatus("acknowledged")}>
        Acknowledge
      </button>
      <button type="button" disabled={busy || status === "resolved"} onClick={() => onStatus("resolved")}>
        Resolve
      </button>
      <button type="button" disabled={busy || status === "open"} onClick={() => onStatus("open")}>
        Reopen
      </button>
    </>
  );
}

/** One button per label, pressed for the current one. */
export function LabelButtons({ label, busy, onLabel }: { label: TAnomalyLabel | null; busy: boolean; onLabel: (l: TAnomalyLabel) => void }) {
  return (
    <>
      {LABELS.map((l) => (
        <button key={l} type="button" aria-pressed={label === l} disabled={busy} onClick={() => onLabel(l)}>
          {LABEL_TEXT[l]}
        </button>
      ))}
    </>
  );
}

/** Linked streams with their source; "and N more" past what the page loaded. */
export function StreamLinks({ streams, total, testId }: { streams: { id: number; key: string; sourceName: string }[]; total: number; testId: string }) {
  return (
    <ul data-testid={testId}>
      {streams.map((s) => (
        <li key={s.id}>
          <Link href={`/streams/${s.id}`}>{s.key}</Link> <span className="muted">({s.sourceName})</span>
        </li>
      ))}
      {total > streams.length ? <li className="muted">and {total - streams.length} more</li> : null}
    </ul>
  );
}

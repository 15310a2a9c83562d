"use client";
import { Can } from "@/components/access/can";
import { LABEL_TEXT, LABELS } from "@/components/anomalies/anomaly-format";

type Status = "acknowledged" | "resolved" | "open";
type Label = (typeof LABELS)[number];

/**
 * The bulk-action toolbar of the anomaly and incident lists: what is selected (the page's rows
 * or everything the filter matches), status and label buttons for operators, and the outcome.
 */
export function BulkBar(props: {
  total: number;
  noun: [one: string, many: string];
  selectedCount: number;
  allMatching: boolean;
  /** every row of the page is selected while more match: offer to select them all */
  offerAllMatching: boolean;
  onSelectAllMatching: () => void;
  busy: boolean;
  onStatus: (s: Status) => void;
  onLabel: (l: Label) => void;
  error: { message: string } | null;
  done: { updated: number } | null;
  countTestId?: string;
}) {
  const { total, selectedCount, allMatching, busy } = props;
  const none = selectedCount === 0;
  return (
    // data-none: on a phone the disabled buttons give way to a hint until a row is selected (globals.css)
    <div className="row bulkbar" role="toolbar" aria-label="Bulk actions" data-none={none || undefined}>
      <span className="muted" aria-live="polite" data-testid={props.countTestId}>
        {allMatching ? `all ${total} matching selected` : selectedCount ? `${selectedCount} selected` : `${total} ${total === 1 ? props.noun[0] : props.noun[1]}`}
      </span>
      {props.offerAllMatching && !allMatching ? (
        <button type="button" className="link" onClick={props.onSelectAllMatching} data-testid="select-all-matching">
          Select all {total} matching
        </button>
      ) : null}
      <Can role="operator">
        {none ? <span className="muted small bulk-hint">Select rows to acknowledge, resolve or label them.</span> : null}
        <button type="button" disabled={none || busy} onClick={() => props.onStatus("acknowledged")}>
          Acknowledge
        </button>
        <button type="button" disabled={none || busy} onClick={() => props.onStatus("resolved")}>
          Resolve
        </button>
        <button type="button" disabled={none || busy} onClick={() => props.onStatus("open")}>
          Reopen
        </button>
        <span className="sep" aria-hidden="true" />
        {LABELS.map((l) => (
          <button key={l} type="button" disabled={none || busy} onClick={() => props.onLabel(l)}>
            Label: {LABEL_TEXT[l]}
          </button>
        ))}
      </Can>
      {props.error ? <span className="error">{props.error.message}</span> : null}
      {props.done && !busy ? (
        <span role="status" className="ok-text" data-testid="bulk-done">
          {props.done.updated} updated
        </span>
      ) : null}
    </div>
  );
}

"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { formatTime } from "@/components/anomalies/anomaly-format";

/** What "similar" is measured against: one anomaly, or every (stream, type) of an incident. */
export type SimilarTarget = { anomalyId: string } | { incidentId: number };

interface Preview {
  total: number;
  firstMs: number | null;
  lastMs: number | null;
  /** the anomalies' type, when they share one */
  type: string | null;
  /** where they are, in words */
  where: React.ReactNode;
}

function usePreview(target: SimilarTarget, enabled: boolean): { data: Preview | undefined } {
  const trpc = useTRPC();
  const isIncident = "incidentId" in target;
  const a = useQuery(trpc.triage.similarPreview.queryOptions({ id: isIncident ? "" : target.anomalyId }, { enabled: enabled && !isIncident }));
  const i = useQuery(trpc.triage.incidentSimilarPreview.queryOptions({ incidentId: isIncident ? target.incidentId : 1 }, { enabled: enabled && isIncident }));
  if (isIncident) {
    const p = i.data;
    return {
      data: p && {
        ...p,
        type: null,
        where: <>on this incident&apos;s {p.streams === 1 ? "stream" : `${p.streams} streams`} with the same type, outside this incident</>,
      },
    };
  }
  const p = a.data;
  return {
    data: p && {
      ...p,
      where: (
        <>
          on <code>{p.streamKey}</code>
        </>
      ),
    },
  };
}

/**
 * After a false positive: offer to label the earlier (and later) anomalies of the same stream and
 * type that nobody labelled, showing how many it touches before anything changes.
 */
export function LabelSimilar({ target, label }: { target: SimilarTarget; label: string | null }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const enabled = label === "false_positive";
  const preview = usePreview(target, enabled);
  const onSettled = () => {
    void qc.invalidateQueries({ queryKey: trpc.triage.pathKey() });
    void qc.invalidateQueries({ queryKey: trpc.anomalies.pathKey() });
    void qc.invalidateQueries({ queryKey: trpc.incidents.pathKey() });
  };
  const applyAnomaly = useMutation(trpc.triage.labelSimilar.mutationOptions({ onSettled }));
  const applyIncident = useMutation(trpc.triage.labelIncidentSimilar.mutationOptions({ onSettled }));
  const apply = "incidentId" in target ? applyIncident : applyAnomaly;
  if (!enabled) return null;
  const p = preview.data;
  if (apply.isSuccess) {
    return (
      <p role="status" className="ok-text" data-testid="label-similar-done">
        Labelled {apply.data.updated} similar {apply.data.updated === 1 ? "anomaly" : "anomalies"} as false positive and resolved them.
      </p>
    );
  }
  if (!p || p.total === 0) return null;
  const confirm = () =>
    "incidentId" in target
      ? applyIncident.mutate({ incidentId: target.incidentId, label: "false_positive", expectedTotal: p.total })
      : applyAnomaly.mutate({ id: target.anomalyId, label: "false_positive", expectedTotal: p.total });
  return (
    <div className="notice row" data-testid="label-similar">
      <span>
        <strong>{p.total}</strong> other unlabelled {p.type ? `${p.type} ` : ""}
        {p.total === 1 ? "anomaly" : "anomalies"} {p.where}
        {p.firstMs !== null && p.lastMs !== null ? ` (${formatTime(p.firstMs)} – ${formatTime(p.lastMs)})` : ""}. Label them false positive too?
      </span>
      <button type="button" className="primary" disabled={apply.isPending} onClick={confirm}>
        Label all {p.total} similar
      </button>
      {apply.error ? <span className="error">{apply.error.message}</span> : null}
    </div>
  );
}

"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { formatTime } from "@/components/anomalies/anomaly-format";

/**
 * After a false positive: offer to label the earlier (and later) anomalies of the same stream and
 * type that nobody labelled, showing how many it touches before anything changes.
 */
export function LabelSimilar({ anomalyId, label }: { anomalyId: string; label: string | null }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const enabled = label === "false_positive";
  const preview = useQuery(trpc.triage.similarPreview.queryOptions({ id: anomalyId }, { enabled }));
  const apply = useMutation(
    trpc.triage.labelSimilar.mutationOptions({
      onSettled: () => {
        void qc.invalidateQueries({ queryKey: trpc.triage.pathKey() });
        void qc.invalidateQueries({ queryKey: trpc.anomalies.pathKey() });
      },
    }),
  );
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
  return (
    <div className="notice row" data-testid="label-similar">
      <span>
        <strong>{p.total}</strong> other unlabelled {p.type} {p.total === 1 ? "anomaly" : "anomalies"} on <code>{p.streamKey}</code>
        {p.firstMs !== null && p.lastMs !== null ? ` (${formatTime(p.firstMs)} – ${formatTime(p.lastMs)})` : ""}. Label them false positive too?
      </span>
      <button
        type="button"
        className="primary"
        disabled={apply.isPending}
        onClick={() => apply.mutate({ id: anomalyId, label: "false_positive", expectedTotal: p.total })}
      >
        Label all {p.total} similar
      </button>
      {apply.error ? <span className="error">{apply.error.message}</span> : null}
    </div>
  );
}

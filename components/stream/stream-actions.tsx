"use client";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useCan } from "@/components/access/can";
import { useTRPC } from "@/components/trpc/client";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";

type Kind = "gauge" | "counter" | "event";
type Settable = "gauge" | "counter";

const KIND_HELP: Record<Settable, string> = {
  gauge: "a gauge: its value itself is scored (temperatures, queue lengths, load)",
  counter: "a counter: its rate per second is scored, and a drop is a reset (bytes sent, requests served)",
};

/**
 * Archive / restore, delete and the kind for one stream, each behind a confirmation; shown to
 * operators and admins only (the API refuses viewers as well).
 */
export function StreamActions({ id, streamKey, archivedAtMs, kind }: { id: number; streamKey: string; archivedAtMs: number | null; kind: Kind }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const router = useRouter();
  const [ask, setAsk] = useState<"archive" | "delete" | null>(null);
  const [newKind, setNewKind] = useState<Settable | null>(null);
  const done = () => {
    setAsk(null);
    void qc.invalidateQueries({ queryKey: trpc.streams.pathKey() });
  };
  const archive = useMutation(trpc.streams.archive.mutationOptions({ onSuccess: done }));
  const setKind = useMutation(
    trpc.streams.setKind.mutationOptions({
      onSuccess: () => {
        setNewKind(null);
        done();
      },
    }),
  );
  const del = useMutation(trpc.streams.delete.mutationOptions({ onSuccess: () => router.push(`/?deleted=${encodeURIComponent(streamKey)}`) }));
  const archived = archivedAtMs !== null;
  const canAct = useCan("operator");
  return (
    <>
      {archived ? (
        <p className="notice archived-note" data-testid="stream-archived">
          Archived {new Date(archivedAtMs).toLocaleString()}: hidden from the overview and raising no anomalies (so no alerts). Its history is kept and new samples are still stored.
        </p>
      ) : null}
      {canAct ? (
        <div className="row" role="group" aria-label="Stream actions">
          {archived ? (
            <button type="button" onClick={() => archive.mutate({ id, archived: false })} disabled={archive.isPending}>
              Restore stream
            </button>
          ) : (
            <button type="button" onClick={() => setAsk("archive")}>
              Archive stream
            </button>
          )}
          <button type="button" className="danger" onClick={() => setAsk("delete")}>
            Delete stream
          </button>
          <label>
            Scored as{" "}
            <select aria-label="Stream kind" value={kind} onChange={(e) => setNewKind(e.target.value as Settable)}>
              {/* an event stream (from its source) is listed as it is, but can only become a gauge or a counter */}
              {[...(kind === "event" ? ["event"] : []), ...Object.keys(KIND_HELP)].map((k) => (
                <option key={k} value={k}>
                  {k}
                </option>
              ))}
            </select>
          </label>
        </div>
      ) : null}
      <ConfirmDialog
        open={ask === "archive"}
        title="Archive this stream?"
        confirmLabel="Archive stream"
        pending={archive.isPending}
        error={archive.error?.message}
        onConfirm={() => archive.mutate({ id, archived: true })}
        onCancel={() => setAsk(null)}
      >
        <p>
          <code>{streamKey}</code> leaves the overview and stops raising anomalies, so no alert fires for it. Its samples, scores and anomalies are kept, samples that still
          arrive are stored, and you can restore it here at any time.
        </p>
      </ConfirmDialog>
      <ConfirmDialog
        open={newKind !== null && newKind !== kind}
        title={`Score this stream as a ${newKind ?? ""}?`}
        confirmLabel={`Score as a ${newKind ?? ""}`}
        pending={setKind.isPending}
        error={setKind.error?.message}
        onConfirm={() => newKind && setKind.mutate({ id, kind: newKind })}
        onCancel={() => setNewKind(null)}
      >
        <p>
          <code>{streamKey}</code> becomes {newKind ? KIND_HELP[newKind] : ""}. Its models start learning again within seconds, so it raises nothing until they have warmed
          up; stored samples, scores and anomalies stay as they are.
        </p>
      </ConfirmDialog>
      <ConfirmDialog
        open={ask === "delete"}
        title="Delete this stream and its history?"
        confirmLabel="Delete stream and its data"
        danger
        pending={del.isPending}
        error={del.error?.message}
        onConfirm={() => del.mutate({ id })}
        onCancel={() => setAsk(null)}
      >
        <p>
          Deletes <code>{streamKey}</code> with all its samples, scores, anomalies, labels and alert history. This cannot be undone. Samples that arrive later under the
          same name start a new, empty stream; to keep the history but silence it, archive it instead.
        </p>
      </ConfirmDialog>
    </>
  );
}

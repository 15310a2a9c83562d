"use client";
import { Can, useCan } from "@/components/access/can";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc/client";
import { Breadcrumbs } from "@/components/ui/breadcrumbs";
import { formatTime } from "@/components/anomalies/anomaly-format";

const REASONS: Record<string, string> = {
  periodic: "every 5 minutes",
  manual: "taken by hand",
  feedback: "after feedback",
  shutdown: "at shutdown",
  "before-rollback": "before a rollback",
  rollback: "after a rollback",
};

function size(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${Math.max(1, Math.round(bytes / 1024))} KiB`;
}

/** Detector snapshots: take one now, or roll the detectors back to an earlier state. */
export function SnapshotManager() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [confirm, setConfirm] = useState<number | null>(null);
  const list = useQuery(trpc.models.snapshots.queryOptions(undefined, { refetchInterval: 3_000 }));
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.models.snapshots.queryKey() });
  const snapshotNow = useMutation(trpc.models.snapshotNow.mutationOptions({ onSuccess: refresh }));
  // The rollback asked for and the newest snapshot id then: the worker's "after a rollback" snapshot above it means done.
  const [asked, setAsked] = useState<{ snapshotId: number; aboveId: number } | null>(null);
  const rollback = useMutation(
    trpc.models.rollback.mutationOptions({
      onSuccess: (_d, v) => {
        setConfirm(null);
        setAsked({ snapshotId: v.snapshotId, aboveId: Math.max(0, ...(list.data?.snapshots ?? []).map((s) => s.id)) });
        void refresh();
      },
    }),
  );
  const pending = list.data?.pending;
  const mayRollBack = useCan("admin");
  const restored = asked && !pending ? (list.data?.snapshots ?? []).find((s) => s.reason === "rollback" && s.id > asked.aboveId) : undefined;
  return (
    <div>
      <Breadcrumbs trail={[{ label: "Settings", href: "/settings" }, { label: "Models" }]} />
      <h1>Models: snapshots and rollback</h1>
      <p className="muted">
        The worker saves the detectors' learnt state every 5 minutes, after feedback and at shutdown, and restores the newest one when it starts. Rolling back
        restores an earlier state (for example after bad labels or a bad configuration); the current state is saved first, so a rollback can itself be undone.
      </p>
      <div className="row">
        <Can role="operator" otherwise={<span className="muted">Operators take snapshots; admins roll back.</span>}>
          <button type="button" className="primary" onClick={() => snapshotNow.mutate()} disabled={snapshotNow.isPending || Boolean(pending)}>
            Take a snapshot now
          </button>
        </Can>
        {pending ? (
          <span role="status" data-testid="pending-request">
            Waiting for the worker: {pending.kind === "rollback" ? `rollback to #${pending.snapshotId}` : "snapshot"}…
          </span>
        ) : null}
        {rollback.isError ? <span className="error">{rollback.error.message}</span> : null}
        {asked && restored ? (
          <span role="status" className="ok-text" data-testid="rollback-done">
            Rolled back to snapshot #{asked.snapshotId}: the worker now scores with the restored detectors (saved as #{restored.id}).
          </span>
        ) : null}
      </div>
      <table style={{ marginTop: 12 }} aria-label="Snapshots">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Taken</th>
            <th scope="col">Why</th>
            <th scope="col">Size</th>
            <th scope="col">Samples scored</th>
            <th scope="col">
              <span className="sr-only">actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {(list.data?.snapshots ?? []).map((s) => (
            <tr key={s.id} data-testid="snapshot-row">
              <td>{s.id}</td>
              <td className="nowrap">{formatTime(s.createdAtMs)}</td>
              <td>{REASONS[s.reason] ?? s.reason}</td>
              <td>{size(s.sizeBytes)}</td>
              <td>{s.cursor.toLocaleString()}</td>
              <td className="row-actions">
                {!mayRollBack ? null : confirm === s.id ? (
                  <span className="row">
                    <button type="button" className="primary" onClick={() => rollback.mutate({ snapshotId: s.id })} disabled={rollback.isPending}>
                      Confirm rollback to #{s.id}
                    </button>
                    <button type="button" onClick={() => setConfirm(null)}>
                      Cancel
                    </button>
                  </span>
                ) : (
                  <button type="button" onClick={() => setConfirm(s.id)} disabled={Boolean(pending)} aria-label={`Roll back to snapshot ${s.id}`}>
                    Roll back
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.data && list.data.snapshots.length === 0 ? <p className="muted">No snapshots yet: the first is saved within 5 minutes of the worker starting.</p> : null}
    </div>
  );
}

"use client";
import Link from "next/link";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Can } from "@/components/access/can";
import { useTRPC } from "@/components/trpc/client";

const when = (ms: number | null) => (ms === null ? "" : new Date(ms).toLocaleString());

/**
 * What was archived: sources (with all their streams) and single streams, hidden from the
 * overview and raising no anomalies. Each can be restored here; a stream archived with its
 * source comes back with the source.
 */
export function ArchivedList() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const sources = useQuery(trpc.sources.list.queryOptions());
  const streams = useQuery(trpc.streams.list.queryOptions({ archived: true, limit: 2000 }));
  const refresh = () => Promise.all([qc.invalidateQueries({ queryKey: trpc.sources.pathKey() }), qc.invalidateQueries({ queryKey: trpc.streams.pathKey() })]);
  const restoreSource = useMutation(trpc.sources.archive.mutationOptions({ onSuccess: refresh }));
  const restoreStream = useMutation(trpc.streams.archive.mutationOptions({ onSuccess: refresh }));
  const archivedSources = (sources.data ?? []).filter((s) => s.archivedAtMs !== null);
  const error = restoreSource.error ?? restoreStream.error;

  return (
    <div>
      <p className="muted">
        <Link href="/">Overview</Link> / archived
      </p>
      <h1>Archived sources and streams</h1>
      <p className="muted">
        Archived data is hidden from the overview and raises no anomalies (so no alerts). Its history is kept and new samples are still stored; restoring brings it
        back as it was.
      </p>
      {error ? <p className="error">{error.message}</p> : null}

      <section className="panel" aria-labelledby="archived-sources">
        <h2 id="archived-sources">Sources</h2>
        {sources.isError ? <p className="error">Could not load sources: {sources.error.message}</p> : null}
        {sources.data && archivedSources.length === 0 ? (
          <p className="muted" data-testid="no-archived-sources">
            No archived sources.
          </p>
        ) : null}
        {archivedSources.length > 0 ? (
          <table data-testid="archived-sources">
            <thead>
              <tr>
                <th>Name</th>
                <th>Kind</th>
                <th>Streams</th>
                <th>Archived</th>
                <th>
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {archivedSources.map((s) => (
                <tr key={s.id} data-testid="archived-source">
                  <td>{s.name}</td>
                  <td>{s.kind}</td>
                  <td>{s.streamCount}</td>
                  <td>{when(s.archivedAtMs)}</td>
                  <td>
                    <Can role="admin" otherwise={<span className="muted small">admins restore sources</span>}>
                      <RestoreButton what={`source ${s.name}`} pending={restoreSource.isPending} onRestore={() => restoreSource.mutate({ id: s.id, archived: false })} />
                    </Can>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>

      <section className="panel" aria-labelledby="archived-streams" style={{ marginTop: 12 }}>
        <h2 id="archived-streams">Streams</h2>
        {streams.isError ? <p className="error">Could not load streams: {streams.error.message}</p> : null}
        {streams.data && streams.data.length === 0 ? (
          <p className="muted" data-testid="no-archived-streams">
            No archived streams.
          </p>
        ) : null}
        {streams.data && streams.data.length > 0 ? (
          <table data-testid="archived-streams">
            <thead>
              <tr>
                <th>Stream</th>
                <th>Source</th>
                <th>Archived</th>
                <th>
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {streams.data.map((s) => (
                <tr key={s.id} data-testid="archived-stream">
                  <td className="mono">
                    <Link href={`/streams/${s.id}`}>{s.key}</Link>
                  </td>
                  <td>{s.sourceName}</td>
                  <td>{when(s.archivedAtMs)}</td>
                  <td>
                    {s.sourceArchived ? (
                      <span className="muted small">archived with its source</span>
                    ) : (
                      <Can role="operator">
                        <RestoreButton what={`stream ${s.key}`} pending={restoreStream.isPending} onRestore={() => restoreStream.mutate({ id: s.id, archived: false })} />
                      </Can>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>
    </div>
  );
}

function RestoreButton({ what, pending, onRestore }: { what: string; pending: boolean; onRestore: () => void }) {
  return (
    <button type="button" disabled={pending} onClick={onRestore} aria-label={`Restore ${what}`}>
      Restore
    </button>
  );
}

import { processGlobal } from "../../process-global";
import type { CommittedBatch } from "../../repos/storage/columns";
import { insertSamplesReturning } from "../../repos/storage/samples";

/**
 * Group commit: batches that arrive while a commit is in flight are merged into the next
 * transaction (up to GROUP_MAX_ROWS), so concurrent senders share one COPY + INSERT instead of
 * queueing on the ingest lock one by one. Each caller still resolves only after the transaction
 * holding its samples committed (or rejects if it failed), so a 2xx keeps meaning "durable".
 *
 * Each commit is then offered to the process's commit sink, which its main.ts sets: the worker
 * process hands batches straight to its pipeline, the web process posts them to the worker
 * (server/worker/handoff.ts). Without a sink (tools, `next dev`) the worker reads the database.
 */

/**
 * Where a process sends its committed batches (the worker's pipeline, the hand-off client, or
 * the JetStream sample log). A sink that returns a promise is durable: ingest acknowledges the
 * samples only once it resolves, and answers with its error (503) when it rejects.
 */
export type CommitSink = (batch: CommittedBatch) => void | Promise<void>;

// Once per process (the web process loads this module twice: Next's copy and the custom server's).
const state = processGlobal("group-commit", () => ({
  queue: [] as PendingCommit[],
  committing: false,
  sink: null as CommitSink | null,
  outboxOwner: null as string | null,
}));

/**
 * Where this process's committed batches go (null: nowhere); set by the process's main.ts.
 * With `outboxOwner` (the JetStream sample log's publisher), every commit is also recorded in
 * the outbox in its own transaction, under that name (server/nats/commit-publisher.ts).
 */
export function setCommitSink(sink: CommitSink | null, outboxOwner: string | null = null): void {
  state.sink = sink;
  state.outboxOwner = sink ? outboxOwner : null;
}

/**
 * Offers a commit to the sink. A best-effort sink (the hand-off) returns nothing: its failures
 * are logged, as the worker reads the samples from the database anyway. A durable sink (the
 * JetStream sample log) returns a promise that the callers wait for; its rejection fails them.
 */
function offerCommitted(batch: CommittedBatch): Promise<void> | undefined {
  if (batch.streamIds.length === 0 || !state.sink) return;
  try {
    return state.sink(batch) ?? undefined;
  } catch (e) {
    console.error(`commit hand-off failed: ${(e as Error).message}`);
  }
}

interface PendingCommit {
  cols: { streamIds: Int32Array; tsMs: Float64Array; values: Float64Array };
  /** the streams may also be written by another process (see insertSamplesReturning) */
  shared: boolean;
  resolve: (r: { received: number; inserted: number }) => void;
  reject: (e: unknown) => void;
}
const GROUP_MAX_ROWS = 250_000;

/** Commits the samples (with other callers' when they arrive together); resolves once durable. */
export function commitGrouped(cols: PendingCommit["cols"], shared = false): Promise<{ received: number; inserted: number }> {
  return new Promise((resolve, reject) => {
    state.queue.push({ cols, shared, resolve, reject });
    if (!state.committing) void drainCommits();
  });
}

async function drainCommits(): Promise<void> {
  state.committing = true;
  try {
    while (state.queue.length) {
      const group: PendingCommit[] = [];
      let rows = 0;
      while (state.queue.length && (group.length === 0 || rows + state.queue[0]!.cols.tsMs.length <= GROUP_MAX_ROWS)) {
        const p = state.queue.shift()!;
        group.push(p);
        rows += p.cols.tsMs.length;
      }
      await commitGroup(group, rows);
    }
  } finally {
    state.committing = false;
  }
}

async function commitGroup(group: PendingCommit[], rows: number): Promise<void> {
  try {
    if (group.length === 1) {
      const { result, committed } = await insertSamplesReturning(group[0]!.cols, false, group[0]!.shared, state.outboxOwner);
      if (committed) await offerCommitted(committed);
      group[0]!.resolve(result);
      return;
    }
    const all = { streamIds: new Int32Array(rows), tsMs: new Float64Array(rows), values: new Float64Array(rows) };
    let o = 0;
    for (const p of group) {
      all.streamIds.set(p.cols.streamIds, o);
      all.tsMs.set(p.cols.tsMs, o);
      all.values.set(p.cols.values, o);
      o += p.cols.tsMs.length;
    }
    const { newRows, committed } = await insertSamplesReturning(all, true, group.some((p) => p.shared), state.outboxOwner);
    if (committed) await offerCommitted(committed);
    if (newRows === "all") {
      for (const p of group) p.resolve({ received: p.cols.tsMs.length, inserted: p.cols.tsMs.length });
      return;
    }
    const fresh = new Map<number, Set<number>>();
    for (const r of newRows ?? []) {
      let set = fresh.get(r.streamId);
      if (!set) fresh.set(r.streamId, (set = new Set()));
      set.add(r.tsMs);
    }
    for (const p of group) {
      let inserted = 0;
      for (let i = 0; i < p.cols.tsMs.length; i++) {
        const set = fresh.get(p.cols.streamIds[i]!);
        if (set?.delete(p.cols.tsMs[i]!)) inserted++; // credited once, to the first claimant
      }
      p.resolve({ received: p.cols.tsMs.length, inserted });
    }
  } catch (e) {
    for (const p of group) p.reject(e);
  }
}

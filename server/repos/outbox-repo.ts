import type pg from "pg";
import { pool } from "../db";

/**
 * The scale-out outbox (`sample_outbox`, docs/scale-out.md): which ingest commits are not yet
 * known to be in the JetStream sample log. A commit records its range of block rows in its own
 * transaction (`recordInOutbox`), so a commit and its duty to be published are durable together;
 * the publisher deletes the row once JetStream holds the commit's messages.
 */

/** A commit's block rows: seq `firstSeq` … `lastSeq`. */
export interface OutboxCommit {
  firstSeq: number;
  lastSeq: number;
}

/** Inside the ingest transaction that wrote block rows `firstSeq` … `lastSeq`. */
export async function recordInOutbox(client: pg.PoolClient, c: OutboxCommit, owner: string): Promise<void> {
  await client.query("INSERT INTO sample_outbox (first_seq, last_seq, owner) VALUES ($1, $2, $3)", [c.firstSeq, c.lastSeq, owner]);
}

/**
 * Commits that another owner recorded at least `minAgeMs` ago and that are still unpublished,
 * oldest first, after `afterSeq` (paging: at most `limit`).
 */
export async function foreignOutboxCommits(owner: string, minAgeMs: number, afterSeq: number, limit: number): Promise<OutboxCommit[]> {
  const res = await pool().query<{ first_seq: string; last_seq: string }>(
    `SELECT first_seq, last_seq FROM sample_outbox
     WHERE owner <> $1 AND created_at <= now() - make_interval(secs => $2 / 1000.0) AND first_seq > $3
     ORDER BY first_seq LIMIT $4`,
    [owner, minAgeMs, afterSeq, limit],
  );
  return res.rows.map((r) => ({ firstSeq: Number(r.first_seq), lastSeq: Number(r.last_seq) }));
}

/** Forgets published commits (by first seq); a row already gone is fine. */
export async function deleteFromOutbox(firstSeqs: number[]): Promise<void> {
  if (firstSeqs.length === 0) return;
  await pool().query("DELETE FROM sample_outbox WHERE first_seq = ANY($1::int8[])", [firstSeqs]);
}

/** How many commits wait in the outbox. */
export async function countOutbox(): Promise<number> {
  const res = await pool().query<{ n: number }>("SELECT count(*)::int AS n FROM sample_outbox");
  return res.rows[0]?.n ?? 0;
}

import { inTransaction } from "../transaction";
import type { RollupColumns, ScoreColumns, ScoreMinuteRows } from "./columns";
import { mergeRollupRows } from "./rollup";
import { packScoreBlocks } from "./score-blocks";
import { blocksWriter, writeMinutes } from "./scores";

/**
 * The scale-out runner's score commit (docs/scale-out.md): a partition message's scores and
 * rollup rows, stored in the transaction that moves the partition's cursor (server/repos/partition-repo.ts
 * reads the cursors and keeps the snapshots).
 */

/** What one run of messages adds besides its scores: its samples' and scores' 1-minute rollup rows. */
export interface PartitionRollups {
  samples: RollupColumns;
  scores: ScoreMinuteRows;
}

/** How many of a run's samples were late (behind the partition's clock), and of those how many were scored. */
export interface LateCounts {
  samples: number;
  scored: number;
}

/**
 * Stores the scores of message `msgSeq` of a partition (and the run's 1-minute rollup rows,
 * merged into the stored minutes, and its late counts, added to the partition's) and moves the
 * partition's cursor to it, in one transaction,
 * only if the cursor is below `msgSeq`. Returns false (nothing written) when it is not: the
 * message was scored already, by this worker before a restart or by another worker that held
 * the partition meanwhile (the cursor row's lock orders them). So each sample is counted in its
 * rollup minute exactly once, like its score.
 */
export async function commitPartitionScores(log: string, partition: number, owner: string, msgSeq: number, scores: ScoreColumns, rollups?: PartitionRollups, late: LateCounts = { samples: 0, scored: 0 }): Promise<boolean> {
  const blocks = blocksWriter(packScoreBlocks(scores));
  return inTransaction(async (client) => {
    const res = await client.query(
      `INSERT INTO partition_cursor (log, partition, msg_seq, scored, late_samples, late_scored, owner, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, now())
       ON CONFLICT (log, partition) DO UPDATE SET msg_seq = EXCLUDED.msg_seq, scored = partition_cursor.scored + EXCLUDED.scored,
         late_samples = partition_cursor.late_samples + EXCLUDED.late_samples, late_scored = partition_cursor.late_scored + EXCLUDED.late_scored,
         owner = EXCLUDED.owner, updated_at = now()
       WHERE partition_cursor.msg_seq < EXCLUDED.msg_seq`,
      [log, partition, msgSeq, scores.tsMs.length, late.samples, late.scored, owner],
    );
    if (res.rowCount !== 1) return false;
    if (blocks) await blocks(client);
    if (rollups?.samples.rows) await mergeRollupRows(client, rollups.samples);
    if (rollups?.scores.streamIds.length) await writeMinutes(client, rollups.scores);
    return true;
  });
}

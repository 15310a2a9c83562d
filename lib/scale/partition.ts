/**
 * Which partition a stream belongs to: FNV-1a (32 bit) of the stream id's decimal key, modulo
 * the partition count. Stable across processes, machines and restarts (a stream id never
 * changes), so every web process publishes a stream's samples to the same partition and one
 * worker at a time holds that stream's detector state.
 */
export function partitionOf(streamId: number, partitions: number): number {
  const key = String(streamId);
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}

/** Row indexes of a column of stream ids, grouped by partition (only non-empty partitions). */
export function splitByPartition(streamIds: ArrayLike<number>, partitions: number): Map<number, number[]> {
  const out = new Map<number, number[]>();
  const memo = new Map<number, number>();
  for (let i = 0; i < streamIds.length; i++) {
    const id = streamIds[i]!;
    let p = memo.get(id);
    if (p === undefined) memo.set(id, (p = partitionOf(id, partitions)));
    let rows = out.get(p);
    if (!rows) out.set(p, (rows = []));
    rows.push(i);
  }
  return out;
}

/**
 * The partitions a worker should own: an even share of `partitions` among the live workers
 * (sorted names), the first `partitions % n` workers taking one more.
 */
export function fairShare(partitions: number, liveWorkers: number): number {
  return Math.ceil(partitions / Math.max(1, liveWorkers));
}

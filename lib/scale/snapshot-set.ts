import { z } from "zod";

/**
 * The format scale-out detector snapshots had until they were kept one row per partition
 * (`detector_snapshot_part`, server/repos/snapshot-archive-repo.ts): every partition's saved
 * state at one moment, in one blob, in `detector_snapshot.state`. Rows written so are still
 * read, a partition's state alone (`decodeSnapshotSetHeader` tells where it lies).
 * Layout: "OPS1", a header length n (uint32 little-endian), n bytes of JSON header (the log's
 * name, the partition count, and per partition its message, feedback label and state length),
 * then the partitions' states (each gzipped engine state, as `partition_snapshot` holds it)
 * one after the other. A single worker's snapshot is a bare gzip stream (1f 8b), so the two
 * cannot be mistaken for each other.
 */
export interface PartitionState {
  partition: number;
  /** last message of the partition's log folded into `state` */
  msgSeq: number;
  /** newest feedback label folded into `state` */
  feedbackId: number;
  state: Uint8Array;
}

export interface SnapshotSet {
  /** the JetStream stream the partitions belong to (`<prefix>-samples`) */
  log: string;
  partitions: number;
  /** partitions that had a saved state (a partition without one had learned nothing yet) */
  states: PartitionState[];
}

const MAGIC = [0x4f, 0x50, 0x53, 0x31]; // "OPS1"

const ZHeader = z.object({
  log: z.string().min(1),
  partitions: z.number().int().positive(),
  parts: z.array(z.object({ partition: z.number().int().min(0), msgSeq: z.number().int().min(0), feedbackId: z.number().int().min(0), bytes: z.number().int().min(0) })),
});

export function encodeSnapshotSet(set: SnapshotSet): Uint8Array {
  const header = new TextEncoder().encode(
    JSON.stringify({
      log: set.log,
      partitions: set.partitions,
      parts: set.states.map((s) => ({ partition: s.partition, msgSeq: s.msgSeq, feedbackId: s.feedbackId, bytes: s.state.byteLength })),
    } satisfies z.infer<typeof ZHeader>),
  );
  const out = new Uint8Array(8 + header.byteLength + set.states.reduce((a, s) => a + s.state.byteLength, 0));
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(4, header.byteLength, true);
  out.set(header, 8);
  let at = 8 + header.byteLength;
  for (const s of set.states) {
    out.set(s.state, at);
    at += s.state.byteLength;
  }
  return out;
}

export function isSnapshotSet(blob: Uint8Array): boolean {
  return blob.byteLength >= SET_PREFIX_BYTES && MAGIC.every((b, i) => blob[i] === b);
}

/** The magic and the header's length: the first bytes to read of a stored value. */
export const SET_PREFIX_BYTES = 8;

/** The length of a set's JSON header, from the value's first `SET_PREFIX_BYTES`; null when the value is not a set. */
export function snapshotSetHeaderLength(prefix: Uint8Array): number | null {
  if (!isSnapshotSet(prefix)) return null;
  return new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength).getUint32(4, true);
}

/** Where a partition's state lies in a stored set, so that it can be read alone. */
export interface SnapshotSetPart extends Omit<PartitionState, "state"> {
  /** byte offset of the state in the whole value */
  offset: number;
  bytes: number;
}

export interface SnapshotSetIndex {
  log: string;
  partitions: number;
  parts: SnapshotSetPart[];
}

/**
 * A set's header (the `snapshotSetHeaderLength` bytes after the prefix) with where each
 * partition's state lies; null when it is damaged or its states do not fill the `totalBytes`
 * of the value exactly.
 */
export function decodeSnapshotSetHeader(header: Uint8Array, totalBytes: number): SnapshotSetIndex | null {
  let parsed;
  try {
    parsed = ZHeader.safeParse(JSON.parse(new TextDecoder().decode(header)));
  } catch {
    return null;
  }
  if (!parsed.success) return null;
  const parts: SnapshotSetPart[] = [];
  let at = SET_PREFIX_BYTES + header.byteLength;
  for (const p of parsed.data.parts) {
    if (p.partition >= parsed.data.partitions || at + p.bytes > totalBytes) return null;
    parts.push({ partition: p.partition, msgSeq: p.msgSeq, feedbackId: p.feedbackId, offset: at, bytes: p.bytes });
    at += p.bytes;
  }
  return at === totalBytes ? { log: parsed.data.log, partitions: parsed.data.partitions, parts } : null;
}

/** Decodes a snapshot set; null when the blob is not one (a single worker's snapshot) or is damaged. */
export function decodeSnapshotSet(blob: Uint8Array): SnapshotSet | null {
  const n = snapshotSetHeaderLength(blob);
  if (n === null || SET_PREFIX_BYTES + n > blob.byteLength) return null;
  const index = decodeSnapshotSetHeader(blob.subarray(SET_PREFIX_BYTES, SET_PREFIX_BYTES + n), blob.byteLength);
  if (!index) return null;
  const states = index.parts.map((p) => ({ partition: p.partition, msgSeq: p.msgSeq, feedbackId: p.feedbackId, state: blob.subarray(p.offset, p.offset + p.bytes) }));
  return { log: index.log, partitions: index.partitions, states };
}

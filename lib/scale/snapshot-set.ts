import { z } from "zod";

/**
 * A scale-out detector snapshot: every partition's saved state at one moment, in one blob, so
 * that it is listed, kept and restored like a single worker's snapshot (`detector_snapshot`).
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
  return blob.byteLength >= 8 && MAGIC.every((b, i) => blob[i] === b);
}

/** Decodes a snapshot set; null when the blob is not one (a single worker's snapshot) or is damaged. */
export function decodeSnapshotSet(blob: Uint8Array): SnapshotSet | null {
  if (!isSnapshotSet(blob)) return null;
  const n = new DataView(blob.buffer, blob.byteOffset, blob.byteLength).getUint32(4, true);
  if (8 + n > blob.byteLength) return null;
  let header;
  try {
    header = ZHeader.safeParse(JSON.parse(new TextDecoder().decode(blob.subarray(8, 8 + n))));
  } catch {
    return null;
  }
  if (!header.success) return null;
  const states: PartitionState[] = [];
  let at = 8 + n;
  for (const p of header.data.parts) {
    if (p.partition >= header.data.partitions || at + p.bytes > blob.byteLength) return null;
    states.push({ partition: p.partition, msgSeq: p.msgSeq, feedbackId: p.feedbackId, state: blob.subarray(at, at + p.bytes) });
    at += p.bytes;
  }
  return at === blob.byteLength ? { log: header.data.log, partitions: header.data.partitions, states } : null;
}

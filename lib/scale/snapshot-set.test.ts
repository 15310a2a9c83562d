import { describe, expect, it } from "vitest";
import { decodeSnapshotSet, decodeSnapshotSetHeader, encodeSnapshotSet, isSnapshotSet, SET_PREFIX_BYTES, snapshotSetHeaderLength } from "./snapshot-set";

describe("snapshot set (every partition's detector state in one blob)", () => {
  const set = {
    log: "omen-samples",
    partitions: 4,
    states: [
      { partition: 0, msgSeq: 17, feedbackId: 2, state: Uint8Array.from([1, 2, 3]) },
      { partition: 3, msgSeq: 40, feedbackId: 0, state: Uint8Array.from([9, 8, 7, 6, 5]) },
    ],
  };

  it("round-trips the partitions' states and positions", () => {
    const blob = encodeSnapshotSet(set);
    expect(isSnapshotSet(blob)).toBe(true);
    const back = decodeSnapshotSet(blob)!;
    expect(back.log).toBe("omen-samples");
    expect(back.partitions).toBe(4);
    expect(back.states.map((s) => ({ ...s, state: [...s.state] }))).toEqual(set.states.map((s) => ({ ...s, state: [...s.state] })));
  });

  it("tells a single worker's snapshot (a gzip stream) and damaged blobs apart", () => {
    expect(decodeSnapshotSet(Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0]))).toBeNull();
    const blob = encodeSnapshotSet(set);
    expect(decodeSnapshotSet(blob.subarray(0, blob.byteLength - 1))).toBeNull();
    const extra = new Uint8Array(blob.byteLength + 1);
    extra.set(blob);
    expect(decodeSnapshotSet(extra)).toBeNull();
    const badHeader = blob.slice();
    badHeader[8] = 0x7b + 1;
    expect(decodeSnapshotSet(badHeader)).toBeNull();
  });
});

describe("snapshot set index (a stored set read one partition at a time)", () => {
  it("tells where each partition's state lies from the prefix and the header alone", () => {
    const blob = encodeSnapshotSet({
      log: "omen-samples",
      partitions: 4,
      states: [
        { partition: 1, msgSeq: 5, feedbackId: 1, state: Uint8Array.from([1, 2]) },
        { partition: 2, msgSeq: 9, feedbackId: 0, state: Uint8Array.from([3, 4, 5]) },
      ],
    });
    const n = snapshotSetHeaderLength(blob.subarray(0, SET_PREFIX_BYTES))!;
    const index = decodeSnapshotSetHeader(blob.subarray(SET_PREFIX_BYTES, SET_PREFIX_BYTES + n), blob.byteLength)!;
    expect(index.log).toBe("omen-samples");
    expect(index.parts.map((p) => [p.partition, p.msgSeq, p.feedbackId, [...blob.subarray(p.offset, p.offset + p.bytes)]])).toEqual([
      [1, 5, 1, [1, 2]],
      [2, 9, 0, [3, 4, 5]],
    ]);
    expect(snapshotSetHeaderLength(Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]))).toBeNull();
    expect(decodeSnapshotSetHeader(blob.subarray(SET_PREFIX_BYTES, SET_PREFIX_BYTES + n), blob.byteLength + 1)).toBeNull();
  });
});

import { describe, expect, it } from "vitest";
import { scaleOutRestoreError, singleWorkerRestoreError } from "./snapshot-fit";

describe("which installation can restore a stored snapshot", () => {
  const set = { kind: "partitions" as const, set: { log: "omen-samples", partitions: 16 } };

  it("lets a scale-out installation restore only its own log's partitions", () => {
    expect(scaleOutRestoreError(7, set, "omen-samples", 16)).toBeNull();
    expect(scaleOutRestoreError(7, set, "other-samples", 16)).toBe("Snapshot 7 was taken on sample log omen-samples with 16 partitions; this installation runs other-samples with 16.");
    expect(scaleOutRestoreError(7, set, "omen-samples", 8)).toBe("Snapshot 7 was taken on sample log omen-samples with 16 partitions; this installation runs omen-samples with 8.");
    const single = "Snapshot 7 holds a single worker's detectors (taken without OMEN_NATS_URL); in scale-out mode only snapshots of the partitions can be restored.";
    expect(scaleOutRestoreError(7, { kind: "single" }, "omen-samples", 16)).toBe(single);
    // a damaged old-format set is refused as before (it decoded to nothing)
    expect(scaleOutRestoreError(7, { kind: "partitions", set: null }, "omen-samples", 16)).toBe(single);
    expect(scaleOutRestoreError(7, null, "omen-samples", 16)).toBe("Snapshot 7 does not exist.");
  });

  it("lets a single worker restore only its own kind", () => {
    expect(singleWorkerRestoreError(7, { kind: "single" })).toBeNull();
    expect(singleWorkerRestoreError(7, set)).toBe("Snapshot 7 holds the partitions of a scale-out installation (OMEN_NATS_URL); a single worker cannot restore it.");
    expect(singleWorkerRestoreError(7, { kind: "partitions", set: null })).not.toBeNull();
  });
});

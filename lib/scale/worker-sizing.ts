/**
 * Sizing of the scale-out worker group (docs/scale-out.md, "Sizing: a million series"): from
 * costs measured per stream on one engine (bench/scale.bench.ts) to what a given number of
 * active series needs in memory, snapshot work and CPU, and the fewest workers that fit a
 * per-worker budget. Pure arithmetic, so the projection the benchmark prints is tested apart
 * from the measurement.
 *
 * A worker owns whole partitions: with W workers the busiest holds ⌈P/W⌉ of them, and it is
 * that worker which must fit the budget.
 */

export interface SizingAssumptions {
  /** active series, each sending one sample per scrape */
  series: number;
  partitions: number;
  scrapeIntervalS: number;
  /** how often a partition with new data saves its snapshot (PartitionRunner's default: 5 s) */
  snapshotEveryS: number;
  /** memory one worker may use (heap and array buffers) */
  workerMemoryBytes: number;
  /** cores one worker may use */
  workerCores: number;
  /**
   * share of a worker's scoring CPU that is the engine itself; the rest (decoding NATS
   * messages, score rows, PostgreSQL transactions) grows with the same points
   */
  engineShare: number;
}

export interface MeasuredCost {
  /** detector state resident per stream (heap + array buffers, after GC) */
  bytesPerStream: number;
  /** an empty worker process (runtime, code, clients) */
  workerBaseBytes: number;
  /** engine CPU per stream-point on one core */
  stepNsPerPoint: number;
  /** saved snapshot (gzipped) per stream */
  snapshotBytesPerStream: number;
  /** serialize + gzip CPU per stream */
  snapshotMsPerStream: number;
  /**
   * the longest the worker's event loop is held while a snapshot is taken, per stream (the
   * copy out of the engine and the gzip output are joined in slices; gzip runs on libuv's pool)
   */
  loopHoldMsPerStream: number;
  /** memory a snapshot holds while it is taken (serialized state, strings), per stream */
  snapshotTransientBytesPerStream: number;
  /** gunzip + restore per stream (a partition's new owner, after a move) */
  restoreMsPerStream: number;
}

export interface WorkerLoad {
  workers: number;
  /** partitions on the busiest worker */
  partitions: number;
  memoryBytes: number;
  cores: number;
  fits: boolean;
}

export interface SizingPlan {
  seriesPerPartition: number;
  pointsPerS: number;
  detectorBytes: number;
  partitionBytes: number;
  snapshotBytesPerPartition: number;
  snapshotMsPerPartition: number;
  /**
   * how long each snapshot holds the worker's event loop (nothing else runs meanwhile: no
   * scoring, no lease renewal; a lease expires 15 s after its last renewal)
   */
  stallMsPerPartition: number;
  /** how long a partition's new owner takes to restore it */
  restoreMsPerPartition: number;
  /** share of one core a partition spends on snapshots (1 = it snapshots without pause) */
  snapshotDutyPerPartition: number;
  /** cores the engines need in all, and with the rest of the scoring path */
  engineCores: number;
  scoringCores: number;
  /** cores one partition needs: scoring path + snapshots */
  coresPerPartition: number;
  /** the load of the busiest worker for each W from 1 to `partitions` */
  byWorkers: WorkerLoad[];
  /** fewest workers that fit the budget; null when even one partition per worker does not */
  workers: number | null;
}

export function planWorkers(a: SizingAssumptions, m: MeasuredCost): SizingPlan {
  if (!(a.series > 0 && a.partitions >= 1 && a.scrapeIntervalS > 0 && a.snapshotEveryS > 0 && a.engineShare > 0 && a.engineShare <= 1)) {
    throw new RangeError("series, partitions, intervals and engineShare (0, 1] must be positive");
  }
  const seriesPerPartition = Math.ceil(a.series / a.partitions);
  const pointsPerS = a.series / a.scrapeIntervalS;
  const partitionBytes = seriesPerPartition * m.bytesPerStream;
  const snapshotMsPerPartition = seriesPerPartition * m.snapshotMsPerStream;
  // a snapshot longer than its interval starts again as soon as it ends: the partition is never without one running
  const snapshotDutyPerPartition = Math.min(1, snapshotMsPerPartition / (a.snapshotEveryS * 1000));
  const engineCores = (pointsPerS * m.stepNsPerPoint) / 1e9;
  const scoringCores = engineCores / a.engineShare;
  const coresPerPartition = scoringCores / a.partitions + snapshotDutyPerPartition;
  const transient = seriesPerPartition * m.snapshotTransientBytesPerStream;
  const byWorkers: WorkerLoad[] = [];
  for (let w = 1; w <= a.partitions; w++) {
    const k = Math.ceil(a.partitions / w);
    // snapshots of one worker's partitions are serialized one at a time (one event loop): one transient at most
    const memoryBytes = m.workerBaseBytes + k * partitionBytes + transient;
    const cores = k * coresPerPartition;
    byWorkers.push({ workers: w, partitions: k, memoryBytes, cores, fits: memoryBytes <= a.workerMemoryBytes && cores <= a.workerCores });
  }
  return {
    seriesPerPartition,
    pointsPerS,
    detectorBytes: a.series * m.bytesPerStream,
    partitionBytes,
    snapshotBytesPerPartition: seriesPerPartition * m.snapshotBytesPerStream,
    snapshotMsPerPartition,
    stallMsPerPartition: seriesPerPartition * m.loopHoldMsPerStream,
    restoreMsPerPartition: seriesPerPartition * m.restoreMsPerStream,
    snapshotDutyPerPartition,
    engineCores,
    scoringCores,
    coresPerPartition,
    byWorkers,
    workers: byWorkers.find((l) => l.fits)?.workers ?? null,
  };
}

import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { checkHops, DETECT_DISPATCH, filesOf, MARKER_BRANCH, markerFilesBeyond, RUNNER_DISPATCH, SAMPLE_PATH, SCALE_OUT_MARKER_BRANCH, SCALE_OUT_PATH, type Checked, type Hop } from "./sample-path";

const ROOT = path.join(import.meta.dirname, "..");
const WORKER = "server/worker/worker.ts";
const RUNNER = "server/worker/partitioned/partition-runner.ts";
const ADAPTER = "server/services/detection/engine-adapter.ts";
const SAMPLES = "server/repos/storage/samples.ts";
const SCORES = "server/repos/storage/scores.ts";
const ANOMALIES = "server/repos/anomalies-repo.ts";

/** Every hop once (the two paths share their ingest and chart hops). */
const PATHS: Hop[] = [...new Set([...SAMPLE_PATH, ...SCALE_OUT_PATH, ...MARKER_BRANCH, ...SCALE_OUT_MARKER_BRANCH])];

/** A path's hop of `kind` from `from` to `to` (its `Ref`s' names), which must be there. */
function hopOf(hops: readonly Hop[], kind: Hop["kind"], from: string, to: string): Hop {
  const hop = hops.find((h) => h.kind === kind && h.from.endsWith(`#${from}`) && h.to.endsWith(`#${to}`));
  expect(hop, `${kind} hop ${from} → ${to}`).toBeDefined();
  return hop!;
}

/** Hops that are not in the code: each must be refused, or the measure could list anything. */
const FALSE_HOPS: Hop[] = [
  // skips the handler and the service: a path that leaves files out does not check
  { kind: "call", from: "server/http/ingest-handlers.ts#remoteWrite", to: "server/repos/storage/samples.ts#insertSamplesReturning" },
  { kind: "call", from: "server/services/streams/stream-service.ts#getStreamDetail", to: "server/repos/storage/scores.ts#prepareScores" },
  // the web process's sink is the hand-off client, not the worker's queue
  { kind: "callback", from: "server/services/ingest/group-commit.ts#offerCommitted", to: "server/worker/handoff.ts#HandoffQueue.offer", via: "setCommitSink", wiredIn: "server/web/main.ts" },
  { kind: "dispatch", from: "server/worker/pipeline/detect-pipeline.ts#DetectPipeline.scoreStep", to: "server/worker/worker.ts#Worker.probe", via: "lib/detectors/engine-port.ts#EnginePort.step", wiredIn: "server/worker/worker.ts#Worker.start", madeBy: `${ADAPTER}#withSettings` },
  // the worker and the runner use withSettings' engine, not createEngine's as it is
  { ...DETECT_DISPATCH, madeBy: `${ADAPTER}#createEngine` },
  { ...RUNNER_DISPATCH, madeBy: `${ADAPTER}#createEngine` },
  // Worker.start and PartitionRunner.start make the engines; other methods do not
  { ...DETECT_DISPATCH, wiredIn: "server/worker/worker.ts#Worker.stop" },
  { ...RUNNER_DISPATCH, wiredIn: `${RUNNER}#PartitionRunner.stop` },
  // the sample log's subject, not the command subject; the consumer, not the stream's set-up
  { kind: "nats", from: "server/nats/commit-publisher.ts#messagesOf", to: "server/nats/sample-log.ts#resetPartitionConsumer", via: "lib/scale/log-names.ts#logNames.commands" },
  { kind: "nats", from: "server/nats/commit-publisher.ts#messagesOf", to: "server/nats/sample-log.ts#openSampleLog", via: "lib/scale/log-names.ts#logNames.subject" },
  { kind: "database", from: "server/repos/storage/samples.ts#insertSamplesReturning", to: "server/services/streams/stream-service.ts#getStreamDetail", table: "sample_block", columns: ["block", "ts", "vals"] },
  // a read is not a write, though its file writes the table (the file-wide check let this pass)
  { kind: "database", from: `${SAMPLES}#readSeries`, to: `${SAMPLES}#readSeries`, table: "sample_block", columns: ["block", "ts", "vals"] },
  // a column neither side has; a column written but not read by the chart (the sample's seq)
  { kind: "database", from: `${SAMPLES}#insertSamplesReturning`, to: `${SAMPLES}#readSeries`, table: "sample_block", columns: ["block", "ts", "value"] },
  { kind: "database", from: `${SCORES}#blocksWriter`, to: `${SCORES}#readScores`, table: "score_block", columns: ["block", "ts", "rev", "data"] },
  // the score rows are not the anomaly rows
  { kind: "database", from: `${SCORES}#prepareScores`, to: `${ANOMALIES}#listAnomalies`, table: "anomaly", columns: ["stream_id"] },
  // the runner's events are written by its run (process), not by each message's fold
  { kind: "call", from: `${RUNNER}#PartitionRunner.fold`, to: `${ANOMALIES}#upsertAnomalies` },
  { kind: "trpc", from: "components/stream/stream-view.tsx#StreamView", to: "server/api/routers/streams.ts#streamsRouter.list", procedure: "streams.list", route: "app/api/trpc/[trpc]/route.ts#handler" },
  { kind: "call", from: "server/web/web-server.ts#noSuchFunction", to: "server/http/ingest-handlers.ts#remoteWrite" },
];

/** `file`'s text with `edit` made, which must change it (else the test would prove nothing). */
function edited(file: string, edit: (t: string) => string): (t: string) => string {
  const text = fs.readFileSync(path.join(ROOT, file), "utf8");
  expect(edit(text), `the edit of ${file} should change it`).not.toBe(text);
  return edit;
}

/** The 1-based line of `needle`'s first occurrence in `file`. */
function lineOf(file: string, needle: string): number {
  const text = fs.readFileSync(path.join(ROOT, file), "utf8");
  return text.slice(0, text.indexOf(needle)).split("\n").length;
}

/** The files a path joins, from `start`, following its hops both ways. */
function reachable(hops: readonly Hop[], start: string): string[] {
  const edges = new Map<string, Set<string>>();
  const join = (a: string, b: string) => {
    for (const [x, y] of [[a, b], [b, a]] as const) {
      if (!edges.has(x)) edges.set(x, new Set());
      edges.get(x)!.add(y);
    }
  };
  const file = (ref: string) => ref.split("#")[0]!;
  for (const h of hops) {
    join(file(h.from), file(h.to));
    if (h.kind === "trpc") join(file(h.from), file(h.route));
  }
  const seen = new Set([start]);
  const todo = [start];
  while (todo.length) for (const next of edges.get(todo.pop()!) ?? []) if (!seen.has(next) && seen.add(next)) todo.push(next);
  return [...seen];
}

let checked: Checked[];
beforeAll(() => {
  checked = checkHops([...PATHS, ...FALSE_HOPS]);
}, 120_000);

describe("sample path", () => {
  it("every hop of both paths is in the code", () => {
    const bad = checked.slice(0, PATHS.length).filter((c) => !c.ok);
    expect(bad.map((c) => `${c.hop.from} → ${c.hop.to}: ${c.why}`)).toEqual([]);
  });

  it("refuses hops that are not in the code", () => {
    const refused = checked.slice(PATHS.length);
    expect(refused).toHaveLength(FALSE_HOPS.length);
    for (const c of refused) expect(c.ok, `${c.hop.from} → ${c.hop.to} should not check`).toBe(false);
  });

  it("follows the engines the processes really make: a worker or partition runner that stopped using withSettings fails its path", () => {
    expect(fs.readFileSync(path.join(ROOT, WORKER), "utf8")).toContain("withSettings(createEngine())");
    const bare = (t: string) => t.replaceAll("withSettings(", "(");
    const [worker, runner] = checkHops([DETECT_DISPATCH, RUNNER_DISPATCH], { [WORKER]: edited(WORKER, bare), [RUNNER]: edited(RUNNER, bare) });
    expect(worker!.ok).toBe(false);
    expect(worker!.why).toMatch(/does not construct DetectPipeline with an engine made only by .*#withSettings/);
    expect(runner!.ok).toBe(false);
    expect(runner!.why).toMatch(/PartitionRunner\.engine is given a value not made only by .*#withSettings \(line \d+\)/);
    expect(runner!.why).toContain(`line ${lineOf(RUNNER, "this.engine = withSettings(")}`);
  }, 120_000);

  it("one engine made otherwise is enough to fail: the worker's restored one, or a runner's engine swapped on rollback", () => {
    const halfBare = (t: string) => t.replace("withSettings(await restoreSnapshot(", "(await restoreSnapshot(");
    // a rollback that replaced the engine instead of its state would drop the saved settings
    const swapped = (t: string) => t.replace("this.engine.replaceState(restored);", "this.engine = restored as ConfiguredEngine;");
    const [worker, runner] = checkHops([DETECT_DISPATCH, RUNNER_DISPATCH], { [WORKER]: edited(WORKER, halfBare), [RUNNER]: edited(RUNNER, swapped) });
    expect(worker!.ok).toBe(false);
    expect(runner!.ok).toBe(false);
    // the line of the swap in applyRollback, not the construction in start
    expect(runner!.why).toMatch(/PartitionRunner\.engine is given a value not made only by .*#withSettings \(line \d+\)/);
    expect(runner!.why).toContain(`line ${lineOf(RUNNER, "this.engine.replaceState(restored);")}`);
  }, 120_000);

  it("a partition runner that stops writing its events as anomalies fails the scale-out marker branch", () => {
    const writes = hopOf(SCALE_OUT_MARKER_BRANCH, "call", "PartitionRunner.process", "upsertAnomalies");
    const rows = hopOf(SCALE_OUT_MARKER_BRANCH, "call", "PartitionRunner.process", "anomalyRow");
    const dropped = (t: string) => t.replace("await upsertAnomalies([...events.values()].map(anomalyRow))", "void events");
    const [w, r] = checkHops([writes, rows], { [RUNNER]: edited(RUNNER, dropped) });
    expect(w).toMatchObject({ ok: false, why: expect.stringMatching(/PartitionRunner\.process does not call .*anomalies-repo\.ts#upsertAnomalies/) });
    expect(r).toMatchObject({ ok: false, why: expect.stringMatching(/PartitionRunner\.process does not call .*anomaly-row\.ts#anomalyRow/) });
  }, 120_000);

  it("a database hop checks the columns the write writes and the read reads, in the code each runs", () => {
    const samples = hopOf(SAMPLE_PATH, "database", "insertSamplesReturning", "readSeries");
    const scores = hopOf(SCALE_OUT_PATH, "database", "blocksWriter", "readScores");
    const anomalies = hopOf(MARKER_BRANCH, "database", "upsertAnomalies", "listAnomalies");
    // two programs (one edit per file each): the reads broken, then the writes
    const reads = checkHops([samples, scores, anomalies], {
      // the chart's raw read (in the helper readSeries calls) reads another table
      [SAMPLES]: edited(SAMPLES, (t) => t.replace("AS value FROM sample_block", "AS value FROM sample_rows")),
      // the score read (two calls down from readScores) stops reading the packed scores
      [SCORES]: edited(SCORES, (t) => t.replace("substring(data FROM", "substring(payload FROM")),
      // the anomaly list (its SELECT constant) stops selecting the anomaly's start
      [ANOMALIES]: edited(ANOMALIES, (t) => t.replace("(extract(epoch FROM a.start_at) * 1000)::float8 AS start_ms,", "")),
    });
    expect(reads.map((c) => c.why)).toEqual([
      expect.stringMatching(/readSeries reads no sample_block row/),
      expect.stringMatching(/readScores reads score_block without data$/),
      expect.stringMatching(/listAnomalies reads anomaly without start_at$/),
    ]);
    const writes = checkHops([samples, anomalies], {
      // the insert (its COPY and its PGlite statement) stops writing the values
      [SAMPLES]: edited(SAMPLES, (t) => t.replaceAll("sample_block (seq, block, ts, vals)", "sample_block (seq, block, ts)")),
      // the upsert writes another table
      [ANOMALIES]: edited(ANOMALIES, (t) => t.replace("INSERT INTO anomaly (", "INSERT INTO anomaly_event (")),
    });
    expect(writes.map((c) => c.why)).toEqual([
      expect.stringMatching(/insertSamplesReturning writes sample_block without vals$/),
      expect.stringMatching(/upsertAnomalies writes no anomaly row/),
    ]);
  }, 240_000);

  it.each([
    ["default", SAMPLE_PATH],
    ["scale-out", SCALE_OUT_PATH],
  ])("the %s path is one connected path from the write endpoint to the chart", (_mode, hops) => {
    // hops join files; a path that lists a file no hop leads to does not hang together
    const start = "server/web/web-server.ts";
    const files = filesOf(hops);
    expect(files[0]).toBe(start);
    expect(files).toContain("components/stream/stream-chart.tsx");
    expect(reachable(hops, start).sort()).toEqual([...files].sort());
  });

  it.each([
    ["default", SAMPLE_PATH, MARKER_BRANCH],
    ["scale-out", SCALE_OUT_PATH, SCALE_OUT_MARKER_BRANCH],
  ])("the %s marker branch hangs off its path: every file it adds is joined to the write endpoint", (_mode, hops, branch) => {
    const both = [...hops, ...branch];
    expect(reachable(both, "server/web/web-server.ts").sort()).toEqual([...filesOf(both)].sort());
  });

  it("docs/architecture.md states the counts the script measures; the default path stays within 20 files (issue 16)", () => {
    expect(filesOf(SAMPLE_PATH).length).toBeLessThanOrEqual(20);
    const doc = fs.readFileSync(path.join(ROOT, "docs/architecture.md"), "utf8");
    for (const [phrase, hops] of [
      [/A sample crosses \*\*(\d+) project files\*\*/, SAMPLE_PATH],
      [/In scale-out mode a sample crosses \*\*(\d+) project files\*\*/, SCALE_OUT_PATH],
    ] as const) {
      const stated = phrase.exec(doc);
      expect(stated, `docs/architecture.md should say: ${phrase.source}`).not.toBeNull();
      expect(Number(stated![1])).toBe(filesOf(hops).length);
    }
    for (const [phrase, branch, hops] of [
      [/The anomaly\s+markers the chart also draws are a branch of their own[^.]*: it adds (\d+)\s+files/, MARKER_BRANCH, SAMPLE_PATH],
      [/in scale-out mode the partition runner's\s+run writes them, and the branch adds (\d+)\s+files/, SCALE_OUT_MARKER_BRANCH, SCALE_OUT_PATH],
    ] as const) {
      const stated = phrase.exec(doc);
      expect(stated, `docs/architecture.md should say: ${phrase.source}`).not.toBeNull();
      expect(Number(stated![1])).toBe(markerFilesBeyond(branch, hops).length);
    }
  });
});

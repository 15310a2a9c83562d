import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { checkHops, DETECT_DISPATCH, filesOf, MARKER_BRANCH, SAMPLE_PATH, type Checked, type Hop } from "./sample-path";

/** Hops that are not in the code: each must be refused, or the measure could list anything. */
const FALSE_HOPS: Hop[] = [
  // skips the handler and the service: a path that leaves files out does not check
  { kind: "call", from: "server/http/ingest-handlers.ts#remoteWrite", to: "server/repos/storage/samples.ts#insertSamplesReturning" },
  { kind: "call", from: "server/services/streams/stream-service.ts#getStreamDetail", to: "server/repos/storage/scores.ts#prepareScores" },
  // the web process's sink is the hand-off client, not the worker's queue
  { kind: "callback", from: "server/services/ingest/group-commit.ts#offerCommitted", to: "server/worker/handoff.ts#HandoffQueue.offer", via: "setCommitSink", wiredIn: "server/web/main.ts" },
  { kind: "dispatch", from: "server/worker/pipeline/detect-pipeline.ts#DetectPipeline.scoreStep", to: "server/worker/worker.ts#Worker.probe", via: "lib/detectors/engine-port.ts#EnginePort.step", wiredIn: "server/worker/worker.ts#Worker.start", madeBy: "server/services/detection/engine-adapter.ts#withSettings" },
  // the worker hands the pipeline withSettings' engine, not createEngine's as it is
  { ...DETECT_DISPATCH, madeBy: "server/services/detection/engine-adapter.ts#createEngine" },
  // Worker.start makes the engine; its other methods do not construct the pipeline
  { ...DETECT_DISPATCH, wiredIn: "server/worker/worker.ts#Worker.stop" },
  { kind: "database", from: "server/repos/storage/samples.ts#insertSamplesReturning", to: "server/services/streams/stream-service.ts#getStreamDetail", table: "sample_block" },
  { kind: "trpc", from: "components/stream/stream-view.tsx#StreamView", to: "server/api/routers/streams.ts#streamsRouter.list", procedure: "streams.list", route: "app/api/trpc/[trpc]/route.ts#handler" },
  { kind: "call", from: "server/web/web-server.ts#noSuchFunction", to: "server/http/ingest-handlers.ts#remoteWrite" },
];

let checked: Checked[];
beforeAll(() => {
  checked = checkHops([...SAMPLE_PATH, ...MARKER_BRANCH, ...FALSE_HOPS]);
}, 120_000);

describe("sample path", () => {
  it("every hop of the path is in the code", () => {
    const bad = checked.slice(0, SAMPLE_PATH.length + MARKER_BRANCH.length).filter((c) => !c.ok);
    expect(bad.map((c) => `${c.hop.from} → ${c.hop.to}: ${c.why}`)).toEqual([]);
  });

  it("refuses hops that are not in the code", () => {
    const refused = checked.slice(SAMPLE_PATH.length + MARKER_BRANCH.length);
    expect(refused).toHaveLength(FALSE_HOPS.length);
    for (const c of refused) expect(c.ok, `${c.hop.from} → ${c.hop.to} should not check`).toBe(false);
  });

  it("follows the engine the worker really makes: a worker that stopped using withSettings fails the path", () => {
    const worker = "server/worker/worker.ts";
    const text = fs.readFileSync(path.join(import.meta.dirname, "..", worker), "utf8");
    expect(text).toContain("withSettings(createEngine())");
    const bare = (t: string) => t.replaceAll("withSettings(", "(");
    const [hop] = checkHops([DETECT_DISPATCH], { [worker]: bare });
    expect(hop!.ok).toBe(false);
    expect(hop!.why).toMatch(/does not construct DetectPipeline with an engine made only by .*#withSettings/);
    // one of the two engines (the restored one) without it is enough to fail
    const halfBare = (t: string) => t.replace("withSettings(await restoreSnapshot(", "(await restoreSnapshot(");
    expect(halfBare(text)).not.toBe(text);
    expect(checkHops([DETECT_DISPATCH], { [worker]: halfBare })[0]!.ok).toBe(false);
  }, 120_000);

  it("is one connected path from the write endpoint to the chart", () => {
    // hops join files; a path that lists a file no hop leads to does not hang together
    const edges = new Map<string, Set<string>>();
    const join = (a: string, b: string) => {
      for (const [x, y] of [[a, b], [b, a]] as const) {
        if (!edges.has(x)) edges.set(x, new Set());
        edges.get(x)!.add(y);
      }
    };
    const file = (ref: string) => ref.split("#")[0]!;
    for (const h of SAMPLE_PATH) {
      join(file(h.from), file(h.to));
      if (h.kind === "trpc") join(file(h.from), file(h.route));
    }
    const start = "server/web/web-server.ts";
    const seen = new Set([start]);
    const todo = [start];
    while (todo.length) for (const next of edges.get(todo.pop()!) ?? []) if (!seen.has(next) && seen.add(next)) todo.push(next);
    const files = filesOf(SAMPLE_PATH);
    expect(files[0]).toBe(start);
    expect(files).toContain("components/stream/stream-chart.tsx");
    expect([...seen].sort()).toEqual([...files].sort());
  });

  it("docs/architecture.md states the count the script measures", () => {
    const doc = fs.readFileSync(path.join(import.meta.dirname, "../docs/architecture.md"), "utf8");
    const stated = /crosses \*\*(\d+) project files\*\*/.exec(doc);
    expect(stated, "docs/architecture.md should say: crosses **N project files**").not.toBeNull();
    expect(Number(stated![1])).toBe(filesOf(SAMPLE_PATH).length);
  });
});

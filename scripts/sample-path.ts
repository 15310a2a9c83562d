/**
 * The files one remote_write sample crosses from `POST /api/v1/write` to the stream chart, as a
 * list of hops that the TypeScript compiler checks against the code (docs/architecture.md,
 * "One sample …", says what counts and why): by default (the loopback hand-off to the single
 * worker) and in scale-out mode (the NATS JetStream sample log to a partition runner).
 * The anomaly markers are a branch of each path (`MARKER_BRANCH`, `SCALE_OUT_MARKER_BRANCH`),
 * checked the same way. `npx tsx scripts/sample-path.ts` prints the hops and the counts;
 * `scripts/sample-path.test.ts` fails when a hop no longer exists in the code or a count in
 * docs/architecture.md is not the one measured.
 *
 * What counts: a file with a function that the sample's data (its bytes, its value, its score)
 * passes through, following the calls that hand the data on — on the default stream page (24 h:
 * raw samples and raw scores, no rollups). A hop that is not a direct call (a callback set by a
 * process's main.ts, an interface method, HTTP between the processes, a database table between
 * a write and a read, tRPC between the browser and the server) is checked by what makes it: the
 * wiring, the `implements` clause and the construction the process uses, the shared route or
 * NATS subject, the table and the columns the data lives in (in the SQL of the writing and the
 * reading function, or of their module's helpers and constants they use), the procedure's name.
 * What does not: files only of types, and what the request meets but the data does not pass
 * through (settings, errors, auth, back-pressure, metrics); inside the storage engine
 * (server/repos/storage) and the ensemble (lib/detectors) only the modules the rest of the code
 * calls (their codecs, block packing and detectors are their own documented internals).
 */
import path from "node:path";
import ts from "typescript";

/** `file#Name` or `file#Name.member` (a class or interface member, or a property in an object). */
type Ref = string;

export type Hop =
  /** `from`'s body calls (or renders, or references) `to`, resolved by the type checker. */
  | { kind: "call"; from: Ref; to: Ref; note?: string }
  /** `from` calls a function value that `wiredIn` sets to `to` through `via` (declared in from's file). */
  | { kind: "callback"; from: Ref; to: Ref; via: string; wiredIn: string }
  /**
   * `from` calls the interface method `via` on a field of its class; `to` is its class's
   * implementation (`implements`), and `madeBy` makes `to`'s class. The field holds only what
   * `madeBy` made, and `wiredIn` (a function or method) puts it there: a constructor parameter
   * is passed it by `wiredIn`'s `new` of `from`'s class; any other field is assigned it by
   * `wiredIn`, and every assignment of that field in `from`'s file is one (a value that only
   * `madeBy` made: called in place, or every value assigned to the variable used). So the
   * implementation the process really uses, not one it merely could.
   */
  | { kind: "dispatch"; from: Ref; to: Ref; via: Ref; wiredIn: Ref; madeBy: Ref }
  /** `from` sends to the route `via` (a constant) and `to` serves it. */
  | { kind: "http"; from: Ref; to: Ref; via: Ref }
  /** `from` publishes to the NATS subject `via` (a name both sides take from one place) and `to` consumes it. */
  | { kind: "nats"; from: Ref; to: Ref; via: Ref }
  /**
   * `from` writes `columns` of `table` and `to` reads them: the SQL in the code each one runs (its
   * body and, transitively, the functions and constants of its module it uses) holds an INSERT INTO
   * or COPY of the table whose column list names every one of them, and a query reading the
   * table (FROM or JOIN) that names every one of them.
   */
  | { kind: "database"; from: Ref; to: Ref; table: string; columns: string[] }
  /** `from` (a component) asks tRPC procedure `procedure` (router.name), which `to` defines; the fetch goes through `route`. */
  | { kind: "trpc"; from: Ref; to: Ref; procedure: string; route: Ref };

/** The pipeline's engine, as the worker makes it (scripts/sample-path.test.ts checks that an engine made otherwise fails). */
export const DETECT_DISPATCH = {
  kind: "dispatch",
  from: "server/worker/pipeline/detect-pipeline.ts#DetectPipeline.scoreStep",
  to: "server/services/detection/engine-adapter.ts#EngineAdapter.step",
  via: "lib/detectors/engine-port.ts#EnginePort.step",
  wiredIn: "server/worker/worker.ts#Worker.start",
  madeBy: "server/services/detection/engine-adapter.ts#withSettings",
} satisfies Hop;

/** A partition runner's engine, as the runner makes it when it starts (checked like DETECT_DISPATCH). */
export const RUNNER_DISPATCH = {
  kind: "dispatch",
  from: "server/worker/partitioned/partition-runner.ts#PartitionRunner.fold",
  to: "server/services/detection/engine-adapter.ts#EngineAdapter.step",
  via: "lib/detectors/engine-port.ts#EnginePort.step",
  wiredIn: "server/worker/partitioned/partition-runner.ts#PartitionRunner.start",
  madeBy: "server/services/detection/engine-adapter.ts#withSettings",
} satisfies Hop;

/** Ingest in the web process, the same in both modes: up to the stored batch offered to the process's commit sink. */
const INGEST: Hop[] = [
  { kind: "call", from: "server/web/web-server.ts#createWebServer", to: "server/web/web-server.ts#nodeIngestRequest" },
  { kind: "call", from: "server/web/web-server.ts#createWebServer", to: "server/web/web-server.ts#ingestRouteOf", note: "the write route: remoteWrite" },
  { kind: "call", from: "server/web/web-server.ts#nodeIngestRequest", to: "server/web/web-server.ts#readNodeBody" },
  { kind: "call", from: "server/web/web-server.ts#INGEST_ROUTES", to: "server/http/ingest-handlers.ts#remoteWrite" },
  { kind: "call", from: "server/http/ingest-handlers.ts#remoteWrite", to: "lib/ingest/remote-write.ts#decompressSnappy" },
  { kind: "call", from: "server/http/ingest-handlers.ts#remoteWrite", to: "lib/ingest/write-request-scan.ts#scanWriteRequest" },
  { kind: "call", from: "server/http/ingest-handlers.ts#remoteWrite", to: "server/services/ingest/ingest-service.ts#ingestRemoteWrite" },
  { kind: "call", from: "server/services/ingest/ingest-service.ts#ingestRemoteWrite", to: "lib/ingest/remote-write.ts#seriesIdentity" },
  { kind: "call", from: "server/services/ingest/ingest-service.ts#ingestRemoteWrite", to: "server/services/ingest/group-commit.ts#commitGrouped" },
  { kind: "call", from: "server/services/ingest/group-commit.ts#commitGroup", to: "server/repos/storage/samples.ts#insertSamplesReturning" },
  { kind: "call", from: "server/services/ingest/group-commit.ts#commitGroup", to: "server/services/ingest/group-commit.ts#offerCommitted" },
];

/** The chart, the same in both modes: the web process reads the samples and the scores (written by each mode its own way), the browser draws. */
const CHART: Hop[] = [
  { kind: "database", from: "server/repos/storage/samples.ts#insertSamplesReturning", to: "server/repos/storage/samples.ts#readSeries", table: "sample_block", columns: ["block", "ts", "vals"] },
  { kind: "call", from: "server/services/streams/stream-service.ts#getStreamDetail", to: "server/repos/storage/samples.ts#readSeries" },
  { kind: "call", from: "server/services/streams/stream-service.ts#getStreamDetail", to: "server/repos/storage/scores.ts#readScores" },
  { kind: "call", from: "server/api/routers/streams.ts#streamsRouter.detail", to: "server/services/streams/stream-service.ts#getStreamDetail" },
  { kind: "call", from: "server/api/routers/streams.ts#streamsRouter.detail", to: "server/api/trpc.ts#viewerProcedure", note: "its middlewares pass the result on" },
  { kind: "trpc", from: "components/stream/stream-view.tsx#StreamView", to: "server/api/routers/streams.ts#streamsRouter.detail", procedure: "streams.detail", route: "app/api/trpc/[trpc]/route.ts#handler" },
  { kind: "call", from: "components/stream/stream-view.tsx#StreamView", to: "components/trpc/client.tsx#useTRPC", note: "the tRPC client (batch link, superjson)" },
  { kind: "call", from: "components/stream/stream-view.tsx#StreamView", to: "components/charts/chart-data.ts#buildChartRows" },
  { kind: "call", from: "components/stream/stream-view.tsx#StreamView", to: "components/charts/chart-data.ts#clipRowsToFloor" },
  { kind: "call", from: "components/stream/stream-view.tsx#StreamView", to: "components/stream/stream-chart.tsx#StreamChart" },
];

/** The value and the score of one sample, to the stream chart (what `streams.detail` returns): the default mode. */
export const SAMPLE_PATH: Hop[] = [
  ...INGEST,
  // the committed batch to the worker
  { kind: "callback", from: "server/services/ingest/group-commit.ts#offerCommitted", to: "server/worker/handoff.ts#createHandoffClient", via: "setCommitSink", wiredIn: "server/web/main.ts" },
  { kind: "call", from: "server/worker/handoff.ts#createHandoffClient", to: "server/worker/handoff.ts#encodeBatch" },
  { kind: "http", from: "server/worker/handoff.ts#createHandoffClient", to: "server/worker/handoff.ts#startHandoffServer", via: "server/worker/handoff.ts#HANDOFF_PATH" },
  { kind: "call", from: "server/worker/handoff.ts#startHandoffServer", to: "server/worker/handoff.ts#decodeBatch" },
  // detection, worker process
  { kind: "callback", from: "server/worker/handoff.ts#startHandoffServer", to: "server/worker/handoff.ts#HandoffQueue.offer", via: "startHandoffServer", wiredIn: "server/worker/main.ts" },
  { kind: "call", from: "server/worker/pipeline/detect-pipeline.ts#DetectPipeline.tick", to: "server/worker/handoff.ts#HandoffQueue.take" },
  // the worker's engine: the adapter as `withSettings` returns it, handed to the pipeline by Worker.start
  DETECT_DISPATCH,
  { kind: "call", from: "server/services/detection/engine-adapter.ts#EngineAdapter.step", to: "lib/detectors/engine.ts#DetectionEngine.stepSlots" },
  { kind: "call", from: "server/worker/pipeline/detect-pipeline.ts#DetectPipeline.writeScores", to: "server/repos/storage/scores.ts#prepareScores" },
  { kind: "database", from: "server/repos/storage/scores.ts#prepareScores", to: "server/repos/storage/scores.ts#readScores", table: "score_block", columns: ["block", "ts", "mask", "data"] },
  ...CHART,
];

/**
 * The same sample in scale-out mode (OMEN_NATS_URL, docs/scale-out.md): the web process
 * publishes the committed batch, split by partition, to the JetStream sample log, and the
 * partition's runner, on whichever worker holds its lease, scores it with its own engine and
 * writes the scores with the partition cursor.
 */
export const SCALE_OUT_PATH: Hop[] = [
  ...INGEST,
  // the committed batch to the sample log
  { kind: "callback", from: "server/services/ingest/group-commit.ts#offerCommitted", to: "server/nats/nats-sink.ts#openNatsSink", via: "setCommitSink", wiredIn: "server/web/main.ts" },
  { kind: "call", from: "server/nats/nats-sink.ts#openNatsSink", to: "server/nats/commit-publisher.ts#natsCommitSink", note: "its sink is the publisher's" },
  { kind: "call", from: "server/nats/commit-publisher.ts#natsCommitSink", to: "server/nats/commit-publisher.ts#messagesOf" },
  { kind: "call", from: "server/nats/commit-publisher.ts#messagesOf", to: "lib/scale/partition.ts#splitByPartition" },
  { kind: "call", from: "server/nats/commit-publisher.ts#messagesOf", to: "lib/scale/sample-message.ts#encodeSamples" },
  { kind: "nats", from: "server/nats/commit-publisher.ts#messagesOf", to: "server/nats/sample-log.ts#resetPartitionConsumer", via: "lib/scale/log-names.ts#logNames.subject" },
  // detection, the worker holding the partition
  { kind: "call", from: "server/worker/partitioned/partition-runner.ts#PartitionRunner.start", to: "server/nats/sample-log.ts#resetPartitionConsumer" },
  { kind: "call", from: "server/worker/partitioned/partition-runner.ts#PartitionRunner.start", to: "server/worker/partitioned/partition-runner.ts#PartitionRunner.process" },
  { kind: "call", from: "server/worker/partitioned/partition-runner.ts#PartitionRunner.process", to: "lib/scale/sample-message.ts#decodeSamples" },
  { kind: "call", from: "server/worker/partitioned/partition-runner.ts#PartitionRunner.process", to: "server/worker/partitioned/partition-runner.ts#PartitionRunner.fold" },
  // the runner's engine: the adapter as `withSettings` returns it, made by the runner's start
  RUNNER_DISPATCH,
  { kind: "call", from: "server/services/detection/engine-adapter.ts#EngineAdapter.step", to: "lib/detectors/engine.ts#DetectionEngine.stepSlots" },
  { kind: "call", from: "server/worker/partitioned/partition-runner.ts#PartitionRunner.process", to: "server/repos/storage/partition-scores.ts#commitPartitionScores", note: "with the partition cursor, in one transaction" },
  { kind: "call", from: "server/repos/storage/partition-scores.ts#commitPartitionScores", to: "server/repos/storage/scores.ts#blocksWriter" },
  { kind: "database", from: "server/repos/storage/scores.ts#blocksWriter", to: "server/repos/storage/scores.ts#readScores", table: "score_block", columns: ["block", "ts", "mask", "data"] },
  ...CHART,
];

/** The anomaly rows to the chart's markers, the same in both modes. */
const MARKERS_TO_CHART: Hop[] = [
  { kind: "database", from: "server/repos/anomalies-repo.ts#upsertAnomalies", to: "server/repos/anomalies-repo.ts#listAnomalies", table: "anomaly", columns: ["stream_id", "start_at", "end_at", "peak_score", "severity", "type"] },
  { kind: "call", from: "server/services/anomalies/anomaly-service.ts#findAnomalies", to: "server/repos/anomalies-repo.ts#listAnomalies" },
  { kind: "call", from: "server/api/routers/anomalies.ts#anomaliesRouter.list", to: "server/services/anomalies/anomaly-service.ts#findAnomalies" },
  { kind: "trpc", from: "components/stream/stream-view.tsx#StreamView", to: "server/api/routers/anomalies.ts#anomaliesRouter.list", procedure: "anomalies.list", route: "app/api/trpc/[trpc]/route.ts#handler" },
];

/** The saved settings' gate inside the engine adapter both modes step: it filters the events, never the scores. */
const SETTINGS_GATE: Hop = { kind: "call", from: "server/services/detection/engine-adapter.ts#EngineAdapter.step", to: "server/services/config/settings-gate.ts#SettingsGate.filter", note: "the saved settings' gate: events only" };

/**
 * The anomaly markers the chart also draws (anomalies are events over runs of scores, so a
 * branch of their own: reported, not in the counts above): the events of the engine's steps,
 * written as anomaly rows by the round that scored them.
 */
export const MARKER_BRANCH: Hop[] = [
  SETTINGS_GATE,
  { kind: "call", from: "server/worker/pipeline/detect-pipeline.ts#DetectPipeline.tick", to: "server/worker/pipeline/detect-pipeline.ts#DetectPipeline.write", note: "the round's events" },
  { kind: "call", from: "server/worker/pipeline/detect-pipeline.ts#DetectPipeline.write", to: "server/worker/pipeline/anomaly-row.ts#anomalyRow" },
  { kind: "call", from: "server/worker/pipeline/detect-pipeline.ts#DetectPipeline.write", to: "server/repos/anomalies-repo.ts#upsertAnomalies" },
  ...MARKERS_TO_CHART,
];

/** The same markers in scale-out mode: the partition runner's run writes the events its `fold`s collected, after their scores. */
export const SCALE_OUT_MARKER_BRANCH: Hop[] = [
  SETTINGS_GATE,
  { kind: "call", from: "server/worker/partitioned/partition-runner.ts#PartitionRunner.process", to: "server/worker/pipeline/anomaly-row.ts#anomalyRow" },
  { kind: "call", from: "server/worker/partitioned/partition-runner.ts#PartitionRunner.process", to: "server/repos/anomalies-repo.ts#upsertAnomalies" },
  ...MARKERS_TO_CHART,
];

const ROOT = path.resolve(import.meta.dirname, "..");

/** The operators that give a variable or field a value (`x = v`, `x ??= v`, `x ||= v`). */
const ASSIGNMENTS: readonly ts.SyntaxKind[] = [ts.SyntaxKind.EqualsToken, ts.SyntaxKind.QuestionQuestionEqualsToken, ts.SyntaxKind.BarBarEqualsToken];

function split(ref: Ref): { file: string; names: string[] } {
  const [file, name] = ref.split("#");
  if (!file || !name) throw new Error(`bad reference "${ref}": use file#Name or file#Name.member`);
  return { file, names: name.split(".") };
}

/** The files a path crosses (`from`, `to` and a tRPC hop's route), in first-met order. */
export function filesOf(hops: readonly Hop[]): string[] {
  const files = new Set<string>();
  for (const h of hops) {
    files.add(split(h.from).file);
    if (h.kind === "trpc") files.add(split(h.route).file);
    files.add(split(h.to).file);
  }
  return [...files];
}

function nameOf(n: ts.Node): string | undefined {
  const name = (n as { name?: ts.Node }).name;
  return name && (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isPrivateIdentifier(name)) ? name.text : undefined;
}

/** The declaration `names` points at in `sf` (top level, then members or properties inside it). */
function findDeclaration(sf: ts.SourceFile, names: string[]): ts.Node | undefined {
  const [top, ...members] = names;
  let found: ts.Node | undefined;
  const visitTop = (n: ts.Node): void => {
    if (found) return;
    if ((ts.isFunctionDeclaration(n) || ts.isClassDeclaration(n) || ts.isInterfaceDeclaration(n) || ts.isVariableDeclaration(n) || ts.isBindingElement(n)) && nameOf(n) === top) {
      found = n;
      return;
    }
    // top-level statements and destructuring only: not locals of other functions
    if (ts.isSourceFile(n) || ts.isVariableStatement(n) || ts.isVariableDeclarationList(n) || ts.isObjectBindingPattern(n) || (ts.isVariableDeclaration(n) && !ts.isIdentifier(n.name))) ts.forEachChild(n, visitTop);
  };
  visitTop(sf);
  for (const m of members) {
    if (!found) return undefined;
    let inner: ts.Node | undefined;
    const visit = (n: ts.Node): void => {
      if (inner) return;
      if ((ts.isMethodDeclaration(n) || ts.isMethodSignature(n) || ts.isPropertyDeclaration(n) || ts.isPropertyAssignment(n) || ts.isPropertySignature(n)) && nameOf(n) === m) {
        inner = n;
        return;
      }
      ts.forEachChild(n, visit);
    };
    ts.forEachChild(found, visit);
    found = inner;
  }
  return found;
}

/** The top-level declaration (a variable or function) around `n`, if any. */
function topLevelOf(n: ts.Node): string | undefined {
  for (let p: ts.Node | undefined = n.parent; p; p = p.parent) {
    if ((ts.isVariableDeclaration(p) && ts.isVariableStatement(p.parent.parent) && ts.isSourceFile(p.parent.parent.parent)) || (ts.isFunctionDeclaration(p) && ts.isSourceFile(p.parent))) return nameOf(p);
  }
  return undefined;
}

/** `file#Name.member` of a declaration, as `Ref`s are written. */
function refOf(decl: ts.Declaration): Ref | undefined {
  const file = path.relative(ROOT, decl.getSourceFile().fileName).split(path.sep).join("/");
  const name = nameOf(decl);
  if (!name) return undefined;
  const owner = decl.parent;
  if ((ts.isClassLike(owner) || ts.isInterfaceDeclaration(owner)) && owner.name) return `${file}#${owner.name.text}.${name}`;
  // a property of an object a top-level declaration makes (`logNames(prefix).subject`), as findDeclaration finds it
  const top = ts.isObjectLiteralExpression(owner) ? topLevelOf(owner) : undefined;
  return top ? `${file}#${top}.${name}` : `${file}#${name}`;
}

/** A table name as SQL may write it (quoted or not), for a regular expression. */
const tableRe = (table: string) => `"?${table.replace(/[^\w]/g, "")}"?`;

/**
 * The column lists `sql` writes `table` with: `INSERT INTO table (a, b)`, or a COPY target
 * (`table (a, b)`, the whole string, as `copyBinaryIn` takes it).
 */
function writtenColumns(sql: string, table: string): string[][] {
  const re = new RegExp(`(?:\\bINSERT\\s+INTO\\s+|^\\s*)${tableRe(table)}(?:\\s+AS\\s+\\w+)?\\s*\\(([^)]*)\\)`, "gi");
  return [...sql.matchAll(re)].map((m) => m[1]!.split(",").map((c) => c.trim().replace(/^"|"$/g, "")));
}

/** Whether `sql` is a query that reads `table` (FROM or JOIN it). */
function readsTable(sql: string, table: string): boolean {
  return new RegExp(`\\b(?:FROM|JOIN)\\s+${tableRe(table)}(?![\\w"])`, "i").test(sql);
}

/** Whether `sql` names `column` (bare, qualified or quoted), an output alias (`AS column`) aside. */
function namesColumn(sql: string, column: string): boolean {
  return new RegExp(`(?<![\\w"])"?${column}"?(?![\\w"])`).test(sql.replace(/\bAS\s+"?\w+"?/gi, " "));
}

/** Of several statements' missing columns, the shortest list (the statement nearest to complete). */
function fewestMissing(missing: string[][]): string[] {
  return missing.reduce((a, b) => (b.length < a.length ? b : a));
}

export interface Checked {
  hop: Hop;
  ok: boolean;
  why?: string;
}

/** The files a marker branch adds to its path (the ones the path does not cross already). */
export function markerFilesBeyond(branch: readonly Hop[], hops: readonly Hop[]): string[] {
  const files = filesOf(hops);
  return filesOf(branch).filter((f) => !files.includes(f));
}

/**
 * Checks every hop against the code; one TypeScript program for all of them. `edits` (tests
 * only) rewrites a file's text (path relative to the repository) before it is checked.
 */
export function checkHops(hops: readonly Hop[], edits: Readonly<Record<string, (text: string) => string>> = {}): Checked[] {
  const configPath = path.join(ROOT, "tsconfig.json");
  const config = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  const roots = new Set<string>();
  for (const h of hops) {
    for (const r of [h.from, h.to, ...("via" in h && h.kind !== "callback" ? [h.via] : []), ...(h.kind === "trpc" ? [h.route] : [])]) roots.add(path.join(ROOT, split(r).file));
    if (h.kind === "callback") roots.add(path.join(ROOT, h.wiredIn));
    if (h.kind === "dispatch") for (const r of [h.wiredIn, h.madeBy]) roots.add(path.join(ROOT, split(r).file));
  }
  roots.add(path.join(ROOT, "server/api/root.ts"));
  const options: ts.CompilerOptions = { ...parsed.options, incremental: false, noEmit: true };
  const host = ts.createCompilerHost(options);
  const edited = new Map(Object.entries(edits).map(([file, edit]) => [path.join(ROOT, file), edit]));
  const readFile = host.readFile.bind(host);
  host.readFile = (fileName) => {
    const text = readFile(fileName);
    const edit = edited.get(path.resolve(fileName));
    return text !== undefined && edit ? edit(text) : text;
  };
  const program = ts.createProgram({ rootNames: [...roots], options, host });
  const checker = program.getTypeChecker();

  const source = (file: string) => program.getSourceFile(path.join(ROOT, file));
  const declaration = (ref: Ref): ts.Node | undefined => {
    const { file, names } = split(ref);
    const sf = source(file);
    return sf && findDeclaration(sf, names);
  };
  /** Whether `expr` is a call of the function `target`. */
  const calls = (expr: ts.Expression, target: Ref): boolean => {
    while (ts.isParenthesizedExpression(expr) || ts.isAwaitExpression(expr)) expr = expr.expression;
    if (!ts.isCallExpression(expr)) return false;
    let s = checker.getSymbolAtLocation(expr.expression);
    if (s && s.flags & ts.SymbolFlags.Alias) s = checker.getAliasedSymbol(s);
    return s?.declarations?.some((d) => refOf(d) === target) ?? false;
  };
  /**
   * Whether `arg`, inside `scope`, is only ever a value that `maker` made: a call of it, or a
   * variable whose every value assigned in `scope` (`null` aside) is one.
   */
  const madeOnlyBy = (arg: ts.Expression, scope: ts.Node, maker: Ref): boolean => {
    if (calls(arg, maker)) return true;
    if (!ts.isIdentifier(arg)) return false;
    const variable = checker.getSymbolAtLocation(arg);
    if (!variable) return false;
    const values: ts.Expression[] = [];
    const visit = (n: ts.Node): void => {
      if (ts.isVariableDeclaration(n) && n.initializer && checker.getSymbolAtLocation(n.name) === variable) values.push(n.initializer);
      if (ts.isBinaryExpression(n) && ASSIGNMENTS.includes(n.operatorToken.kind) && checker.getSymbolAtLocation(n.left) === variable) values.push(n.right);
      ts.forEachChild(n, visit);
    };
    visit(scope);
    const made = values.filter((v) => v.kind !== ts.SyntaxKind.NullKeyword);
    return made.length > 0 && made.every((v) => calls(v, maker));
  };
  /** Whether `node` (its body) references the declaration `target`. */
  const references = (node: ts.Node, target: Ref): boolean => {
    let hit = false;
    const visit = (n: ts.Node): void => {
      if (hit) return;
      if (ts.isIdentifier(n) || ts.isPrivateIdentifier(n)) {
        let s = checker.getSymbolAtLocation(n);
        if (s && s.flags & ts.SymbolFlags.Alias) s = checker.getAliasedSymbol(s);
        // a shorthand property (`{ sink }`) names the local it stands for
        if (ts.isShorthandPropertyAssignment(n.parent)) s = checker.getShorthandAssignmentValueSymbol(n.parent) ?? s;
        if (s?.declarations?.some((d) => refOf(d) === target)) hit = true;
      }
      ts.forEachChild(n, visit);
    };
    visit(node);
    return hit;
  };

  /** The string value of a `const` whose initializer is a string literal (a table or column list named once), if `expr` is one. */
  const constantText = (expr: ts.Expression): string | undefined => {
    if (!ts.isIdentifier(expr)) return undefined;
    let s = checker.getSymbolAtLocation(expr);
    if (s && s.flags & ts.SymbolFlags.Alias) s = checker.getAliasedSymbol(s);
    const d = s?.valueDeclaration;
    return d && ts.isVariableDeclaration(d) && d.initializer && (ts.isStringLiteral(d.initializer) || ts.isNoSubstitutionTemplateLiteral(d.initializer)) ? d.initializer.text : undefined;
  };
  /**
   * The string and template literals (SQL among them) in `start` and in the code of its own
   * module that it uses, transitively: the functions and methods it calls or references, the
   * constants it reads. Its module only, so a database hop names the repository function that
   * runs the SQL, not a caller further up. A template's substitutions read as their constant's
   * text, or as a blank.
   */
  const sqlUsedBy = (start: ts.Node): string[] => {
    const texts: string[] = [];
    const seen = new Set<ts.Node>([start]);
    const todo = [start];
    const follow = (n: ts.Identifier | ts.PrivateIdentifier): void => {
      let s = checker.getSymbolAtLocation(n);
      if (s && s.flags & ts.SymbolFlags.Alias) s = checker.getAliasedSymbol(s);
      for (const d of s?.declarations ?? []) {
        if (seen.has(d) || d.getSourceFile() !== start.getSourceFile()) continue;
        if (ts.isFunctionDeclaration(d) || ts.isMethodDeclaration(d) || ts.isVariableDeclaration(d) || ts.isPropertyDeclaration(d)) {
          seen.add(d);
          todo.push(d);
        }
      }
    };
    const visit = (n: ts.Node): void => {
      if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) texts.push(n.text);
      else if (ts.isTemplateExpression(n)) texts.push(n.head.text + n.templateSpans.map((sp) => `${constantText(sp.expression) ?? " "}${sp.literal.text}`).join(""));
      else if (ts.isIdentifier(n) || ts.isPrivateIdentifier(n)) follow(n);
      ts.forEachChild(n, visit);
    };
    while (todo.length) visit(todo.pop()!);
    return texts;
  };

  /** The fields of its class that `from` calls `method` on (`this.field.method(…)`); null if it calls it on anything else. */
  const receivers = (from: ts.Node, method: Ref): ts.Symbol[] | null => {
    const fields = new Set<ts.Symbol>();
    let other = false;
    const visit = (n: ts.Node): void => {
      if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) && references(n.expression.name, method)) {
        const target = n.expression.expression;
        const field = ts.isPropertyAccessExpression(target) && target.expression.kind === ts.SyntaxKind.ThisKeyword ? checker.getSymbolAtLocation(target.name) : undefined;
        if (field) fields.add(field);
        else other = true;
      }
      ts.forEachChild(n, visit);
    };
    visit(from);
    return other || fields.size === 0 ? null : [...fields];
  };
  /**
   * Why `field` (the one `h.from` calls `h.via` on) may hold something `h.madeBy` did not make,
   * or is not put there by `h.wiredIn` (`wiring`); undefined when it holds only what `madeBy` made.
   */
  const fieldMadeOnlyBy = (field: ts.Symbol, h: Extract<Hop, { kind: "dispatch" }>, wiring: ts.Node): string | undefined => {
    const decl = field.valueDeclaration;
    const fromClass = `${split(h.from).file}#${split(h.from).names[0]}`;
    const className = split(h.from).names[0]!;
    if (decl && ts.isParameter(decl) && ts.isConstructorDeclaration(decl.parent)) {
      // a constructor parameter: what `wiredIn` passes in its place when it constructs the class
      const at = decl.parent.parameters.indexOf(decl);
      let handed = false;
      const visit = (n: ts.Node): void => {
        if (ts.isNewExpression(n) && references(n.expression, fromClass) && n.arguments?.[at] && madeOnlyBy(n.arguments[at], wiring, h.madeBy)) handed = true;
        ts.forEachChild(n, visit);
      };
      visit(wiring);
      return handed ? undefined : `${h.wiredIn} does not construct ${className} with an engine made only by ${h.madeBy}`;
    }
    if (!decl || !ts.isPropertyDeclaration(decl)) return `${className}.${field.name} is neither a constructor parameter nor a property`;
    // a property: every value any code of the file gives it, and at least one of them in `wiredIn`
    const file = decl.getSourceFile();
    const assigned: { value: ts.Expression; inWiring: boolean }[] = decl.initializer ? [{ value: decl.initializer, inWiring: false }] : [];
    const visit = (n: ts.Node): void => {
      if (ts.isBinaryExpression(n) && ASSIGNMENTS.includes(n.operatorToken.kind) && ts.isPropertyAccessExpression(n.left) && checker.getSymbolAtLocation(n.left.name) === field) {
        assigned.push({ value: n.right, inWiring: n.pos >= wiring.pos && n.end <= wiring.end && n.getSourceFile() === wiring.getSourceFile() });
      }
      ts.forEachChild(n, visit);
    };
    visit(file);
    const stray = assigned.find((a) => !madeOnlyBy(a.value, file, h.madeBy));
    if (stray) return `${className}.${field.name} is given a value not made only by ${h.madeBy} (line ${file.getLineAndCharacterOfPosition(stray.value.getStart()).line + 1})`;
    return assigned.some((a) => a.inWiring) ? undefined : `${h.wiredIn} does not give ${className}.${field.name} an engine made only by ${h.madeBy}`;
  };

  const check = (h: Hop): string | undefined => {
    const from = declaration(h.from);
    if (!from) return `${h.from} not found`;
    const to = declaration(h.to);
    if (!to) return `${h.to} not found`;
    switch (h.kind) {
      case "call":
        return references(from, h.to) ? undefined : `${h.from} does not call ${h.to}`;
      case "callback": {
        const { file } = split(h.from);
        if (!declaration(`${file}#${h.via}`)) return `${h.via} is not declared in ${file}`;
        const wiring = source(h.wiredIn);
        if (!wiring) return `${h.wiredIn} not found`;
        if (!references(wiring, `${file}#${h.via}`)) return `${h.wiredIn} does not use ${h.via}`;
        return references(wiring, h.to) ? undefined : `${h.wiredIn} does not hand ${h.to} to ${h.via}`;
      }
      case "dispatch": {
        if (!references(from, h.via)) return `${h.from} does not call ${h.via}`;
        const cls = to.parent;
        const iface = split(h.via).names[0];
        if (!ts.isClassDeclaration(cls) || !cls.heritageClauses?.some((c) => c.getText().includes(iface!))) return `${h.to}'s class does not implement ${iface}`;
        const className = cls.name?.text;
        const maker = declaration(h.madeBy);
        if (!maker) return `${h.madeBy} not found`;
        if (!className || !references(maker, `${split(h.to).file}#${className}`)) return `${h.madeBy} does not make a ${className}`;
        const wiring = declaration(h.wiredIn);
        if (!wiring) return `${h.wiredIn} not found`;
        const fields = receivers(from, h.via);
        if (!fields) return `${h.from} calls ${h.via} on something other than a field of its class`;
        for (const field of fields) {
          const why = fieldMadeOnlyBy(field, h, wiring);
          if (why) return why;
        }
        return undefined;
      }
      case "http":
      case "nats": {
        const [sends, serves] = h.kind === "http" ? ["send to", "serve"] : ["publish to", "consume"];
        if (!declaration(h.via)) return `${h.via} not found`;
        if (!references(from, h.via)) return `${h.from} does not ${sends} ${h.via}`;
        return references(to, h.via) ? undefined : `${h.to} does not ${serves} ${h.via}`;
      }
      case "database": {
        const writes = sqlUsedBy(from).flatMap((sql) => writtenColumns(sql, h.table));
        if (writes.length === 0) return `${h.from} writes no ${h.table} row (no INSERT INTO or COPY of it in the code of its module it runs)`;
        const unwritten = fewestMissing(writes.map((cols) => h.columns.filter((c) => !cols.includes(c))));
        if (unwritten.length) return `${h.from} writes ${h.table} without ${unwritten.join(", ")}`;
        const reads = sqlUsedBy(to).filter((sql) => readsTable(sql, h.table));
        if (reads.length === 0) return `${h.to} reads no ${h.table} row (no query of it in the code of its module it runs)`;
        const unread = fewestMissing(reads.map((sql) => h.columns.filter((c) => !namesColumn(sql, c))));
        return unread.length ? `${h.to} reads ${h.table} without ${unread.join(", ")}` : undefined;
      }
      case "trpc": {
        const [router, procedure] = h.procedure.split(".");
        if (!new RegExp(`\\btrpc\\.${router}\\.${procedure}\\b`).test(from.getText())) return `${h.from} does not ask ${h.procedure}`;
        const routerVar = split(h.to).names[0]!;
        const root = source("server/api/root.ts")?.getText() ?? "";
        if (!new RegExp(`\\b${router}\\s*:\\s*${routerVar}\\b`).test(root)) return `server/api/root.ts does not mount ${routerVar} as ${router}`;
        const route = declaration(h.route);
        if (!route) return `${h.route} not found`;
        return references(route, "server/api/root.ts#appRouter") ? undefined : `${h.route} does not serve appRouter`;
      }
    }
  };
  return hops.map((hop) => {
    const why = check(hop);
    return why ? { hop, ok: false, why } : { hop, ok: true };
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const checked = checkHops([...new Set([...SAMPLE_PATH, ...SCALE_OUT_PATH, ...MARKER_BRANCH, ...SCALE_OUT_MARKER_BRANCH])]);
  const bad = checked.filter((c) => !c.ok);
  for (const c of checked) console.log(`${c.ok ? "ok  " : "FAIL"} ${c.hop.kind.padEnd(8)} ${c.hop.from} → ${c.hop.to}${c.ok ? "" : `  (${c.why})`}`);
  const files = filesOf(SAMPLE_PATH);
  console.log(`\nFiles on one sample's path (value and score) to the stream chart: ${files.length}`);
  files.forEach((f, i) => console.log(`${String(i + 1).padStart(3)}. ${f}`));
  const extra = markerFilesBeyond(MARKER_BRANCH, SAMPLE_PATH);
  console.log(`\nThe anomaly-marker branch adds ${extra.length}: ${extra.join(", ")}`);
  const scaleOut = filesOf(SCALE_OUT_PATH);
  console.log(`\nFiles on the same path in scale-out mode (NATS JetStream, partition runner): ${scaleOut.length}`);
  scaleOut.forEach((f, i) => console.log(`${String(i + 1).padStart(3)}. ${f}${files.includes(f) ? "" : "  (scale-out only)"}`));
  const scaleOutExtra = markerFilesBeyond(SCALE_OUT_MARKER_BRANCH, SCALE_OUT_PATH);
  console.log(`\nIn scale-out mode the anomaly-marker branch adds ${scaleOutExtra.length}: ${scaleOutExtra.join(", ")}`);
  if (bad.length) {
    console.error(`\n${bad.length} hop(s) do not match the code`);
    process.exit(1);
  }
}

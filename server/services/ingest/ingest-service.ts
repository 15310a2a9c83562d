import { AppError } from "@/lib/errors/app-error";
import { seriesIdentity, type MetadataCache, type ScannedWriteRequest } from "@/lib/ingest/remote-write";
import { SeriesKeyIndex } from "@/lib/ingest/series-key-index";
import type { DecodedSeries } from "@/lib/ingest/types";
import { describeTimeRefusal, MAX_FUTURE_MS, timeRefusal } from "@/lib/ingest/sample-bounds";
import { streamKey } from "@/lib/schemas/stream";
import { env } from "../../env";
import { processGlobal } from "../../process-global";
import { sequenceHead } from "../../repos/storage/samples";
import { commitGrouped } from "./group-commit";
import { DEFAULT_CARDINALITY_LIMIT, ensureSource, getSourceByName, type SourceKind, type SourceRow } from "../../repos/sources-repo";
import { countStreams, createStreams, findStreamIds, markStreamsEnded } from "../../repos/streams-repo";
import { readWorkerStatus, WORKER_STALE_MS } from "../../repos/worker-status-repo";

/** One series in a decoded ingest request, before it has a stream id. */
export type IncomingSeries = DecodedSeries;

export interface IngestResult {
  series: number;
  newStreams: number;
  /** samples offered to the database (after refusals) */
  received: number;
  /** of those, new (re-sent samples are left out) */
  inserted: number;
  /** samples refused on their own (time out of bounds); the rest of the request was stored */
  refused: number;
  /** up to `MAX_REFUSAL_EXAMPLES` of them, worded for the sender */
  refusedExamples: string[];
}

const MAX_REFUSAL_EXAMPLES = 10;

/** Counts refused samples and words the first few. */
export class Refusals {
  count = 0;
  readonly examples: string[] = [];
  add(what: () => string): void {
    if (this.count++ < MAX_REFUSAL_EXAMPLES) this.examples.push(what());
  }
}
/** Per-series limits on labels (after removing `__name__`). */
export const LABEL_LIMITS = { maxLabels: 64, maxNameLength: 128, maxValueLength: 2048 } as const;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_.\-/]*$/;

interface SourceCache {
  source: SourceRow;
  /** stream key → id */
  ids: Map<string, number>;
  /** remote_write raw label bytes → id (see `ingestRemoteWrite`) */
  byLabelBytes: SeriesKeyIndex;
}

/**
 * This module's state, once per process: in the web process Next's bundled copy (CSV import,
 * settings) and the custom server's copy (remote_write, OTLP) must share the source caches, the
 * per-source locks (the cardinality cap) and the back-pressure reading.
 */
const state = processGlobal("ingest-service", () => ({
  sources: new Map<string, SourceCache>(),
  /** tail of the stream-creation chain per source (see withSourceLock) */
  sourceLocks: new Map<string, Promise<unknown>>(),
  backlogCache: undefined as { atMs: number; value: ReturnType<typeof ingestBacklog> } | undefined,
  /** Prometheus staleness markers received (never stored as values; see `ingestRemoteWrite`), exported on /metrics. */
  staleMarkers: { endedStream: 0, unknownSeries: 0, outOfBounds: 0 },
  logProbe: null as LogBacklogProbe | null,
  logCache: undefined as { atMs: number; value: Promise<LogBacklog> } | undefined,
}));

/**
 * Staleness markers received since the start: of a known stream (which was marked ended), of a
 * series with no stream, and with a time out of bounds (ignored, as a sample would be refused).
 */
export function staleMarkerCounts(): { endedStream: number; unknownSeries: number; outOfBounds: number } {
  return { ...state.staleMarkers };
}
const { sources, sourceLocks } = state;

async function sourceFor(name: string, kind: SourceKind): Promise<SourceCache> {
  let cached = sources.get(name);
  if (!cached) {
    cached = { source: await ensureSource(name, kind), ids: new Map(), byLabelBytes: new SeriesKeyIndex() };
    sources.set(name, cached);
  }
  return cached;
}

/** Forget cached source settings (after the cardinality limit or config changes). */
export function invalidateSourceCache(name?: string): void {
  if (name) sources.delete(name);
  else sources.clear();
}

// Stream creation is serialised per source so that concurrent requests cannot each pass the
// cardinality check against the same count and together exceed the cap.
async function withSourceLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const prev = sourceLocks.get(name) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => undefined);
  sourceLocks.set(name, tail);
  try {
    return await run;
  } finally {
    if (sourceLocks.get(name) === tail) sourceLocks.delete(name);
  }
}

async function resolveStreams(
  sourceName: string,
  cache: SourceCache,
  batch: IncomingSeries[],
  keys: string[],
  candidates: string[],
): Promise<number> {
  const missing = candidates.filter((k) => !cache.ids.has(k)); // another request may have created them meanwhile
  if (missing.length === 0) return 0;
  const found = await findStreamIds(cache.source.id, missing);
  for (const [k, id] of found) cache.ids.set(k, id);
  const toCreate = missing.filter((k) => !found.has(k));
  if (toCreate.length === 0) return 0;
  assertWithinCardinality(sourceName, await countStreams(cache.source.id), toCreate, cache.source.cardinalityLimit);
  const specByKey = new Map(batch.map((s, i) => [keys[i]!, s]));
  const created = await createStreams(
    cache.source.id,
    toCreate.map((k) => {
      const s = specByKey.get(k)!;
      return { metric: s.metric, labels: s.labels, key: k, kind: s.kind, group: s.group ?? null, unit: s.unit ?? null };
    }),
  );
  for (const [k, id] of created) cache.ids.set(k, id);
  return toCreate.length;
}

function assertWithinCardinality(sourceName: string, existing: number, toCreate: readonly string[], limit: number): void {
  if (existing + toCreate.length > limit) {
    throw new AppError(
      "BAD_REQUEST",
      `Too many series for source "${sourceName}": it has ${existing} streams and this request adds ${toCreate.length} new ones, over its cardinality limit of ${limit}. Drop labels with many values (e.g. request ids) or raise the source's limit in Settings. Nothing from this request was stored.`,
      { existing, adding: toCreate.length, limit, examples: toCreate.slice(0, 5) },
    );
  }
}

/**
 * What `ensureStreams` would refuse, read-only (a CSV check stores nothing, not even its
 * source): the same 400 for a series that cannot name a stream, or for new streams over the
 * source's cardinality limit (a source not created yet has the default one).
 */
export async function assertStreamsFit(sourceName: string, batch: IncomingSeries[]): Promise<void> {
  validateIdentities(batch);
  const source = await getSourceByName(sourceName);
  const keys = [...new Set(batch.map((s) => streamKey(s.metric, s.labels)))];
  const found = source && keys.length ? await findStreamIds(source.id, keys) : new Map<string, number>();
  const toCreate = keys.filter((k) => !found.has(k));
  if (toCreate.length === 0) return;
  assertWithinCardinality(sourceName, source ? await countStreams(source.id) : 0, toCreate, source?.cardinalityLimit ?? DEFAULT_CARDINALITY_LIMIT);
}

/**
 * Validates a decoded batch, resolves (or creates, within the source's cardinality cap) its
 * streams and commits all samples in one transaction. Throws AppError before writing anything
 * if any part of the batch is invalid, so a rejected request never half-lands.
 */
export async function ingestSeries(
  sourceName: string,
  sourceKind: SourceKind,
  input: IncomingSeries[],
  nowMs: number = Date.now(),
  refusals: Refusals = new Refusals(),
): Promise<IngestResult> {
  const batch = acceptedSamples(input, nowMs, refusals);
  const cache = await sourceFor(sourceName, sourceKind);
  const keys = batch.map((s) => streamKey(s.metric, s.labels));
  const missing = [...new Set(keys.filter((k) => !cache.ids.has(k)))];
  let newStreams = 0;
  if (missing.length) newStreams = await withSourceLock(sourceName, () => resolveStreams(sourceName, cache, batch, keys, missing));
  let n = 0;
  for (const s of batch) n += s.tsMs.length;
  const streamIds = new Int32Array(n);
  const tsMs = new Float64Array(n);
  const values = new Float64Array(n);
  let o = 0;
  batch.forEach((s, i) => {
    const id = cache.ids.get(keys[i]!)!;
    for (let j = 0; j < s.tsMs.length; j++, o++) {
      streamIds[o] = id;
      tsMs[o] = s.tsMs[j]!;
      values[o] = s.values[j]!;
    }
  });
  // a CSV file can be imported by the web app and the CLI at once: always check for stored samples
  const { received, inserted } = n ? await commitGrouped({ streamIds, tsMs, values }, sourceKind === "csv") : { received: 0, inserted: 0 };
  return { series: batch.length, newStreams, received, inserted, refused: refusals.count, refusedExamples: refusals.examples };
}

/**
 * Validates the series' names and labels and resolves (or creates, within the source's
 * cardinality cap, all at once) their streams without writing samples: a caller that commits a
 * large file in several transactions checks the cap for the whole file first.
 */
export async function ensureStreams(sourceName: string, sourceKind: SourceKind, batch: IncomingSeries[]): Promise<number> {
  validateIdentities(batch);
  const cache = await sourceFor(sourceName, sourceKind);
  const keys = batch.map((s) => streamKey(s.metric, s.labels));
  const missing = [...new Set(keys.filter((k) => !cache.ids.has(k)))];
  return missing.length ? withSourceLock(sourceName, () => resolveStreams(sourceName, cache, batch, keys, missing)) : 0;
}

/**
 * Prometheus remote_write, scanned (see `scanWriteRequest`): series this process has seen map
 * from their raw label bytes straight to a stream id; only unseen series are decoded, validated
 * and resolved (or created within the cardinality cap). Same guarantees as `ingestSeries`:
 * everything is validated before anything is written, and the samples commit in one transaction.
 */
export async function ingestRemoteWrite(
  sourceName: string,
  scan: ScannedWriteRequest,
  meta: MetadataCache,
  nowMs: number = Date.now(),
  refusals: Refusals = new Refusals(),
): Promise<IngestResult> {
  meta.learn(scan.metadata);
  const cache = await sourceFor(sourceName, "remote_write");
  const seriesIds = new Int32Array(scan.series);
  const unseen: number[] = [];
  const { keyFrom, keyTo, keyHash } = scan;
  const keys = new DataView(scan.bytes.buffer, scan.bytes.byteOffset, scan.bytes.byteLength);
  for (let s = 0; s < scan.series; s++) {
    const from = keyFrom[s]!;
    const id = from < 0 ? -1 : cache.byLabelBytes.get(keys, from, keyTo[s]!, keyHash[s]!);
    if (id < 0) unseen.push(s);
    else seriesIds[s] = id;
  }
  const identities = new Map<number, IncomingSeries>();
  // series holding only staleness markers create no stream: they only end one that exists
  const markerOnly = unseen.filter((s) => scan.hasSamples[s] === 0);
  if (markerOnly.length) for (let k = unseen.length - 1; k >= 0; k--) if (scan.hasSamples[unseen[k]!] === 0) unseen.splice(k, 1);
  for (const s of unseen) {
    const d: IncomingSeries = { ...seriesIdentity(scan, s, meta), tsMs: [], values: [] };
    // NaN and ±Inf values are stored as sent (see lib/ingest/sample-bounds.ts)
    validateIdentity(d);
    identities.set(s, d);
  }
  const n = scan.samples;
  const latest = nowMs + MAX_FUTURE_MS;
  // samples out of the time bounds are refused on their own (as Prometheus does)
  let refusedAt: Uint8Array | null = null;
  for (let i = 0; i < n; i++) {
    const t = scan.tsMs[i]!;
    if (t >= 0 && t <= latest) continue; // the common case inline
    const reason = timeRefusal(t, nowMs);
    if (!reason) continue;
    refusedAt ??= new Uint8Array(n);
    refusedAt[i] = 1;
    const s = scan.sampleSeries[i]!;
    refusals.add(() => {
      const d = identities.get(s) ?? seriesIdentity(scan, s, meta);
      return `${streamKey(d.metric, d.labels)}: ${describeTimeRefusal(reason, t)}`;
    });
  }
  let keep = n;
  if (refusedAt) {
    // a series none of whose samples is accepted creates no stream
    const accepted = new Uint8Array(scan.series);
    for (let i = 0; i < n; i++) if (!refusedAt[i]) accepted[scan.sampleSeries[i]!] = 1;
    for (let k = unseen.length - 1; k >= 0; k--) if (!accepted[unseen[k]!]) unseen.splice(k, 1);
    keep = 0;
    for (let i = 0; i < n; i++) if (!refusedAt[i]) keep++;
  }
  // everything is valid: only now may streams be created
  let newStreams = 0;
  if (unseen.length) {
    const batch = unseen.map((s) => identities.get(s)!);
    const keys = batch.map((d) => streamKey(d.metric, d.labels));
    const missing = [...new Set(keys.filter((k) => !cache.ids.has(k)))];
    if (missing.length) newStreams = await withSourceLock(sourceName, () => resolveStreams(sourceName, cache, batch, keys, missing));
    unseen.forEach((s, k) => (seriesIds[s] = cache.ids.get(keys[k]!)!));
  }
  // remember the new label bytes (bounded: at most twice the cardinality cap)
  if (cache.byLabelBytes.size + unseen.length > 2 * Math.max(cache.source.cardinalityLimit, 1000)) cache.byLabelBytes.clear();
  for (const s of unseen) if (keyFrom[s]! >= 0) cache.byLabelBytes.set(keys, keyFrom[s]!, keyTo[s]!, keyHash[s]!, seriesIds[s]!);
  const streamIds = new Int32Array(keep);
  let tsMs = scan.tsMs;
  let values = scan.values;
  if (refusedAt) {
    tsMs = new Float64Array(keep);
    values = new Float64Array(keep);
    for (let i = 0, o = 0; i < n; i++) {
      if (refusedAt[i]) continue;
      streamIds[o] = seriesIds[scan.sampleSeries[i]!]!;
      tsMs[o] = scan.tsMs[i]!;
      values[o++] = scan.values[i]!;
    }
  } else for (let i = 0; i < n; i++) streamIds[i] = seriesIds[scan.sampleSeries[i]!]!;
  const { received, inserted } = keep ? await commitGrouped({ streamIds, tsMs, values }) : { received: 0, inserted: 0 };
  // after the samples: a marker ends its stream only after the samples sent before it
  if (scan.staleMarkers) await endStreams(cache, scan, seriesIds, markerOnly, meta, nowMs);
  let series = 0;
  for (let s = 0; s < scan.series; s++) series += scan.hasSamples[s]!;
  return { series, newStreams, received, inserted, refused: refusals.count, refusedExamples: refusals.examples };
}

/**
 * Staleness markers: Prometheus writes one when a series disappears (its target is gone, or a
 * scrape no longer has it). The marker is not a value; its stream is marked ended (see
 * `markStreamsEnded`), which stops the worker treating the silence as a gap, and each marker is
 * counted (`staleMarkerCounts`). Markers of series that never had a stream only count.
 */
async function endStreams(cache: SourceCache, scan: ScannedWriteRequest, seriesIds: Int32Array, markerOnly: number[], meta: MetadataCache, nowMs: number): Promise<void> {
  // every series but the unseen marker-only ones has its stream id already
  const known = new Uint8Array(scan.series).fill(1);
  for (const s of markerOnly) known[s] = 0;
  if (markerOnly.length) {
    const keyOf = new Map<number, string>();
    for (const s of markerOnly) {
      try {
        const d = seriesIdentity(scan, s, meta);
        // (a name or label no stream may have, e.g. with a NUL that PostgreSQL text cannot
        // hold, is not looked up: the lookup itself would fail the request)
        validateIdentity(d);
        keyOf.set(s, streamKey(d.metric, d.labels));
      } catch {
        // labels that cannot name a stream: no stream to end
      }
    }
    const lookup = [...new Set([...keyOf.values()].filter((k) => !cache.ids.has(k)))];
    if (lookup.length) for (const [k, id] of await findStreamIds(cache.source.id, lookup)) cache.ids.set(k, id);
    for (const [s, k] of keyOf) {
      const id = cache.ids.get(k);
      if (id === undefined) continue;
      seriesIds[s] = id;
      known[s] = 1;
    }
  }
  const ids: number[] = [];
  const ts: number[] = [];
  for (let i = 0; i < scan.staleMarkers; i++) {
    const s = scan.staleSeries[i]!;
    if (!known[s]) {
      state.staleMarkers.unknownSeries++;
      continue;
    }
    if (timeRefusal(scan.staleTsMs[i]!, nowMs)) {
      state.staleMarkers.outOfBounds++;
      continue;
    }
    ids.push(seriesIds[s]!);
    ts.push(scan.staleTsMs[i]!);
  }
  if (ids.length) await markStreamsEnded(ids, ts);
  state.staleMarkers.endedStream += ids.length;
}

// PostgreSQL text cannot hold NUL, and an unpaired surrogate has no UTF-8 encoding
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Whether PostgreSQL text can hold `v` (no NUL, no unpaired surrogate). */
const isStorableText = (v: string) => !UNSTORABLE.test(v);

/**
 * Throws the 400 an ingest would for the first series that cannot name a stream (its metric,
 * labels, unit or group), before anything is read or written: also what a CSV check (dry run)
 * answers, so it never lists a stream the import then refuses.
 */
export function validateIdentities(batch: readonly Pick<IncomingSeries, "metric" | "labels" | "unit" | "group">[]): void {
  for (const s of batch) validateIdentity(s);
}

function validateIdentity(s: Pick<IncomingSeries, "metric" | "labels" | "unit" | "group">): void {
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:.\-/]*$/.test(s.metric) || s.metric.length > 200) {
    throw new AppError(
      "BAD_REQUEST",
      `Invalid metric name "${s.metric.slice(0, 80)}": use letters, digits, _ : . - / (max 200 characters). Nothing from this request was stored.`,
    );
  }
  for (const [what, text] of [["unit", s.unit], ["group", s.group]] as const) {
    if (text != null && (text.length > 200 || !isStorableText(text))) {
      throw new AppError("BAD_REQUEST", `Series ${s.metric}: its ${what} is over 200 characters or not valid Unicode text. Nothing from this request was stored.`);
    }
  }
  const names = Object.keys(s.labels);
  if (names.length > LABEL_LIMITS.maxLabels) {
    throw new AppError(
      "BAD_REQUEST",
      `Series ${s.metric} has ${names.length} labels, over the limit of ${LABEL_LIMITS.maxLabels}; drop unneeded labels (e.g. with write_relabel_configs). Nothing from this request was stored.`,
    );
  }
  for (const k of names) {
    const v = s.labels[k]!;
    if (k.length > LABEL_LIMITS.maxNameLength || !LABEL_NAME.test(k)) {
      throw new AppError(
        "BAD_REQUEST",
        `Series ${s.metric}: invalid label name "${k.slice(0, 80)}" (letters, digits, _ . - /, not starting with a digit, max ${LABEL_LIMITS.maxNameLength} characters). Nothing from this request was stored.`,
      );
    }
    if (typeof v !== "string" || v.length > LABEL_LIMITS.maxValueLength) {
      throw new AppError(
        "BAD_REQUEST",
        `Series ${s.metric}: the value of label "${k}" is longer than ${LABEL_LIMITS.maxValueLength} characters. Nothing from this request was stored.`,
      );
    }
    if (!isStorableText(v)) {
      throw new AppError(
        "BAD_REQUEST",
        `Series ${s.metric}: the value of label "${k}" holds a NUL character or an unpaired UTF-16 surrogate; label values must be valid Unicode text. Nothing from this request was stored.`,
      );
    }
  }
}

/**
 * The batch without the samples whose time is out of bounds (each noted in `refusals`), and
 * without series left with no sample. Throws AppError before anything is written when a series
 * itself is invalid (names, labels): that refuses the whole request.
 */
function acceptedSamples(batch: IncomingSeries[], nowMs: number, refusals: Refusals): IncomingSeries[] {
  const out: IncomingSeries[] = [];
  for (const s of batch) {
    validateIdentity(s);
    if (s.tsMs.length !== s.values.length) throw new AppError("BAD_REQUEST", `Series ${s.metric}: timestamps and values differ in length. Nothing from this request was stored.`);
    let kept: IncomingSeries | null = null;
    for (let j = 0; j < s.tsMs.length; j++) {
      const t = s.tsMs[j]!;
      const reason = timeRefusal(t, nowMs);
      if (reason === null) {
        if (kept) {
          kept.tsMs.push(t);
          kept.values.push(s.values[j]!);
        }
        continue;
      }
      // first refusal in this series: copy what was accepted before it
      kept ??= { ...s, tsMs: s.tsMs.slice(0, j), values: s.values.slice(0, j) };
      refusals.add(() => `${streamKey(s.metric, s.labels)}: ${describeTimeRefusal(reason, t)}`);
    }
    const accepted = kept ?? s;
    if (accepted.tsMs.length) out.push(accepted);
  }
  return out;
}

/**
 * Back-pressure: how far the slowest live worker is behind the newest committed sample, and
 * whether a worker that has run is now down (no heartbeat for `WORKER_STALE_MS`: crashed,
 * frozen) or stalled (alive but not making progress, e.g. a write it keeps retrying).
 */
export async function ingestBacklog(nowMs = Date.now()): Promise<{ lag: number; workerAlive: boolean; down: boolean; stalled: string | null; heartbeatAgeMs: number | null }> {
  const [seq, all] = await Promise.all([sequenceHead(), readWorkerStatus()]);
  // a worker stopped on purpose is not down: its backlog waits for it, and ingest goes on
  // a worker stopped on purpose is not down either; scale-out workers (OMEN_NATS_URL) consume the
  // JetStream log, not the seq order, and the log buffers for them
  const workers = all.filter((w) => w.info.stopped !== true && w.info.nats !== true);
  const live = workers.filter((w) => nowMs - w.heartbeatAtMs < WORKER_STALE_MS);
  if (live.length === 0) {
    // no worker has ever run (a fresh database, a CLI import) or it was stopped: nothing is waiting on one
    const newest = workers.length ? Math.max(...workers.map((w) => w.heartbeatAtMs)) : null;
    return { lag: 0, workerAlive: false, down: newest !== null, stalled: null, heartbeatAgeMs: newest === null ? null : nowMs - newest };
  }
  const cursor = Math.min(...live.map((w) => w.cursor));
  const stuck = live.find((w) => w.info.stalled === true);
  const stalled = stuck ? (typeof stuck.info.lastError === "string" && stuck.info.lastError ? stuck.info.lastError : "no progress") : null;
  return { lag: Math.max(0, seq - cursor), workerAlive: true, down: false, stalled, heartbeatAgeMs: null };
}

const BACKLOG_CACHE_MS = 1_000;

/**
 * Throws AppError TOO_MANY_REQUESTS (details.retryAfterSeconds; 503 for remote_write, 429 for
 * OTLP) when the live worker is more than OMEN_WORKER_MAX_LAG samples behind, or when the
 * worker is down or stalled: senders then hold their data and retry, instead of piling up
 * samples nobody scores (Prometheus keeps a WAL for that). Before any worker has ever run (a
 * fresh database, a CLI import) ingest is accepted. The reading is cached for ~1 s per process.
 */
export async function assertIngestCapacity(maxLag: number = env().OMEN_WORKER_MAX_LAG, nowMs = Date.now()): Promise<void> {
  if (!state.backlogCache || nowMs - state.backlogCache.atMs > BACKLOG_CACHE_MS) {
    const value = ingestBacklog(nowMs);
    state.backlogCache = { atMs: nowMs, value };
    value.catch(() => (state.backlogCache = undefined));
  }
  await assertLogCapacity(nowMs);
  const { lag, workerAlive, down, stalled, heartbeatAgeMs } = await state.backlogCache.value;
  if (down) {
    throw new AppError(
      "TOO_MANY_REQUESTS",
      `Omen's detection worker is down (last heartbeat ${Math.round((heartbeatAgeMs ?? 0) / 1000)} s ago); it is being restarted. Retry after 10 s; nothing from this request was stored.`,
      { reason: "worker_down", retryAfterSeconds: 10 },
    );
  }
  if (stalled !== null) {
    throw new AppError(
      "TOO_MANY_REQUESTS",
      `Omen's detection worker is not making progress (${stalled}). Retry after 10 s; nothing from this request was stored.`,
      { reason: "worker_stalled", lag, retryAfterSeconds: 10 },
    );
  }
  if (workerAlive && lag > maxLag) {
    const retryAfterSeconds = Math.min(60, Math.max(1, Math.ceil(lag / maxLag) * 2));
    throw new AppError(
      "TOO_MANY_REQUESTS",
      `Omen is busy: the detection worker is ${lag} samples behind (limit OMEN_WORKER_MAX_LAG=${maxLag}). Retry after ${retryAfterSeconds} s; nothing from this request was stored.`,
      { lag, maxLag, retryAfterSeconds },
    );
  }
}

/** For tests: drop the cached backlog reading. */
export function resetIngestCapacityCache(): void {
  state.backlogCache = undefined;
  state.logCache = undefined;
}

/** Scale-out: how many messages of the sample log wait for their partition's worker, in all, per partition, and the partition with the most. */
export interface LogBacklog {
  pending: number;
  worst: { partition: number; pending: number } | null;
  partitions: { partition: number; pending: number }[];
}
export interface LogBacklogProbe {
  read(): Promise<LogBacklog>;
  /** above this many pending messages ingest is refused (OMEN_NATS_MAX_PENDING) */
  maxPending: number;
}

/**
 * Scale-out back-pressure (OMEN_NATS_URL): the web process's main.ts sets how to read the
 * sample log's backlog; null turns the check off. Scale-out workers do not take part in the
 * single worker's lag reading (they consume the log, not the seq order), so without this the
 * log would grow for as long as the workers lag.
 */
export function setLogBacklogProbe(probe: LogBacklogProbe | null): void {
  state.logProbe = probe;
  state.logCache = undefined;
}

/**
 * Scale-out: the sample log's backlog as this process's probe reads it (cached ~1 s, shared by
 * ingest's back-pressure and /api/health); null when no probe is set (not scale-out mode here).
 * Rejects when NATS cannot be read.
 */
export function readLogBacklogCached(nowMs = Date.now()): Promise<LogBacklog> | null {
  const probe = state.logProbe;
  if (!probe) return null;
  if (!state.logCache || nowMs - state.logCache.atMs > BACKLOG_CACHE_MS) {
    const value = probe.read();
    state.logCache = { atMs: nowMs, value };
    value.catch(() => (state.logCache = undefined));
  }
  return state.logCache.value;
}

/** Throws TOO_MANY_REQUESTS when the sample log holds more than the probe's limit of undelivered messages. */
async function assertLogCapacity(nowMs: number): Promise<void> {
  const probe = state.logProbe;
  const read = readLogBacklogCached(nowMs);
  if (!probe || !read) return;
  // NATS unreachable: no reading; the publish after the commit answers 503 itself
  const reading = await read.catch(() => null);
  if (!reading || reading.pending <= probe.maxPending) return;
  const retryAfterSeconds = Math.min(60, Math.max(1, Math.ceil(reading.pending / probe.maxPending) * 2));
  const worst = reading.worst ? ` (most in partition ${reading.worst.partition}: ${reading.worst.pending})` : "";
  throw new AppError(
    "TOO_MANY_REQUESTS",
    `Omen is busy: ${reading.pending} messages of the sample log wait for the scoring workers${worst}, over the limit OMEN_NATS_MAX_PENDING=${probe.maxPending}. Retry after ${retryAfterSeconds} s; nothing from this request was stored.`,
    { reason: "log_backlog", pending: reading.pending, maxPending: probe.maxPending, retryAfterSeconds },
  );
}

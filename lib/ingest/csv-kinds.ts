/**
 * The kind of a stream a CSV import creates, decided from its whole column: the CSV holds no
 * declaration of kinds, so a counter (a cumulative total such as a request count, which the
 * engine scores by its rate) is recognised by
 * - its name, by the Prometheus convention every ingest path shares (`isCounterName`: `_total`,
 *   `_bucket`), unless its values say otherwise: a fall that is no reset, or a negative value
 *   (a spreadsheet's `errors_total` column of counts per interval goes up and down); or
 * - its values, by the rule the engine's streaming auto-detection applies
 *   (`lib/detectors/counter-kind.ts`), here over every value of the column in time order.
 * Everything else is a gauge. A kind the sender declares (`kinds`, by stream key or metric name)
 * wins over both; a stream that exists already keeps its stored kind whatever the file says
 * (the import service's part: these functions only see the file).
 */
import { z } from "zod";
import { looksLikeCounter, tallyCounterSteps } from "@/lib/detectors/counter-kind";
import { AppError } from "@/lib/errors/app-error";
import { streamKey, ZStreamKind, type TStreamKind } from "@/lib/schemas/stream";
import type { DecodedSeries } from "./types";
import { isCounterName } from "./counter-name";

/** Why a stream has its kind: its stored kind, the sender's declaration, its name, or its values. */
export type CsvKindFrom = "stored" | "declared" | "name" | "values";

export interface CsvKind {
  kind: TStreamKind;
  from: CsvKindFrom;
}

/** A new stream's kind from its metric name and its samples (in any order; times and values pair up). */
export function csvColumnKind(metric: string, tsMs: readonly number[], values: readonly number[]): CsvKind {
  const ordered = inTimeOrder(tsMs, values);
  if (isCounterName(metric)) {
    const t = tallyCounterSteps(ordered);
    return t.badDrops === 0 && t.nonNegative ? { kind: "counter", from: "name" } : { kind: "gauge", from: "values" };
  }
  return { kind: looksLikeCounter(ordered) ? "counter" : "gauge", from: "values" };
}

/** The values sorted by their times (a long-layout file may list a stream's rows in any order). */
function inTimeOrder(tsMs: readonly number[], values: readonly number[]): readonly number[] {
  let sorted = true;
  for (let k = 1; k < tsMs.length && sorted; k++) sorted = tsMs[k]! >= tsMs[k - 1]!;
  if (sorted) return values;
  const order = Array.from(tsMs.keys()).sort((a, b) => tsMs[a]! - tsMs[b]!);
  return order.map((k) => values[k]!);
}

/**
 * Declared kinds: stream key or metric name → kind (the import's `kinds` parameter, JSON), as a
 * Map: a stream may be named `__proto__`, and a record (zod's `z.record` builds one by
 * assignment) drops that key silently, since assigning it sets the object's prototype instead.
 */
export const ZCsvDeclaredKinds = z.preprocess(
  (v) => (isJsonObject(v) ? new Map(Object.entries(v)) : v),
  z.map(z.string().min(1).max(1000), ZStreamKind).refine((k) => k.size <= 50_000, "at most 50,000 entries"),
);
export type TCsvDeclaredKinds = ReadonlyMap<string, TStreamKind>;

function isJsonObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

const NOT_AN_OBJECT = 'kinds must be a JSON object of stream → kind, e.g. {"requests":"counter"}. Nothing from this request was stored.';

/** The `kinds` parameter's text → declarations; a 400 that says what is wrong. */
export function parseDeclaredKinds(text: string | null | undefined): TCsvDeclaredKinds {
  if (!text) return new Map();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AppError("BAD_REQUEST", NOT_AN_OBJECT);
  }
  const r = ZCsvDeclaredKinds.safeParse(json);
  if (!r.success) {
    if (!isJsonObject(json)) throw new AppError("BAD_REQUEST", NOT_AN_OBJECT);
    const issue = r.error.issues[0]!;
    const at = issue.path.length ? ` at "${String(issue.path[0]).slice(0, 60)}"` : "";
    throw new AppError("BAD_REQUEST", `kinds${at}: ${issue.message} (kinds are gauge, counter or event). Nothing from this request was stored.`);
  }
  return r.data;
}

/**
 * Each new series' kind: declared (by its stream key, else its metric name), else `csvColumnKind`.
 * A declaration that names no stream of the file is refused (a typo would otherwise pass silently).
 */
export function declaredOrDetected(series: readonly DecodedSeries[], declared: TCsvDeclaredKinds): CsvKind[] {
  const used = new Set<string>();
  const kinds = series.map((x): CsvKind => {
    const key = streamKey(x.metric, x.labels);
    const name = declared.has(key) ? key : declared.has(x.metric) ? x.metric : null;
    if (name === null) return csvColumnKind(x.metric, x.tsMs, x.values);
    used.add(name);
    return { kind: declared.get(name)!, from: "declared" };
  });
  const unused = [...declared.keys()].filter((k) => !used.has(k));
  if (unused.length) {
    throw new AppError("BAD_REQUEST", `kinds names ${unused.slice(0, 3).map((k) => `"${k.slice(0, 60)}"`).join(", ")}${unused.length > 3 ? ` and ${unused.length - 3} more` : ""}, which the file has no stream of. Nothing from this file was stored.`);
  }
  return kinds;
}

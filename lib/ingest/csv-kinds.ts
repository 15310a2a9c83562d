/**
 * The kind of a stream a CSV import creates, decided from its whole column: the CSV holds no
 * declaration of kinds, so a counter (a cumulative total such as a request count, which the
 * engine scores by its rate) is recognised by
 * - its name, by the Prometheus convention every ingest path shares (`isCounterName`: `_total`,
 *   `_bucket`), unless its values say otherwise: a fall that is no reset, or a negative value
 *   (a spreadsheet's `errors_total` column of counts per interval goes up and down); or
 * - its values, by the rule the engine's streaming auto-detection applies
 *   (`lib/detectors/counter-kind.ts`), here over every value of the column in time order.
 * Everything else is a gauge. A stream that exists already keeps its stored kind (the import
 * service's part: this function only sees the file).
 */
import { looksLikeCounter, tallyCounterSteps } from "@/lib/detectors/counter-kind";
import type { TStreamKind } from "@/lib/schemas/stream";
import { isCounterName } from "./counter-name";

/** Why a stream has its kind: its stored kind, its name, or its values. */
export type CsvKindFrom = "stored" | "name" | "values";

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

/** The CSV preview's stream kinds: what the import decided and why, and what the user changed. */
import type { CsvKindFrom } from "@/lib/ingest/csv-kinds";
import type { TStreamKind } from "@/lib/schemas/stream";

type CsvStreamKind = TStreamKind;

/** A stream of the import's answer (`CsvImportResult.streams`). */
export interface CsvPreviewStream {
  key: string;
  samples: number;
  kind: TStreamKind;
  kindFrom: CsvKindFrom;
}

/** Why a stream has its kind, in a few words (empty for a plain gauge: nothing to explain). */
export function kindReason(s: Pick<CsvPreviewStream, "kind" | "kindFrom">): string {
  if (s.kindFrom === "stored") return "existing stream: keeps its kind";
  if (s.kindFrom === "declared") return "as declared";
  if (s.kind !== "counter") return "";
  return s.kindFrom === "name"
    ? "counter by its name: scored by its rate"
    : "a running total (falls only to restart): scored by its rate";
}

/**
 * The `kinds` parameter of the import: the new streams whose kind the user changed in the
 * preview; null when none was changed. `chosen` is a Map: a stream may be named `__proto__`,
 * which an object literal's lookup or assignment would not treat as a key.
 */
export function changedKinds(streams: readonly CsvPreviewStream[], chosen: ReadonlyMap<string, CsvStreamKind>): string | null {
  const changed: [string, CsvStreamKind][] = [];
  for (const s of streams) {
    const c = chosen.get(s.key);
    if (c !== undefined && c !== s.kind && s.kindFrom !== "stored") changed.push([s.key, c]);
  }
  // fromEntries defines each key as the object's own, `__proto__` too, so JSON.stringify writes it
  return changed.length ? JSON.stringify(Object.fromEntries(changed)) : null;
}

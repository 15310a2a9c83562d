import { db } from "../db";
import type { Source } from "../generated/prisma/client";
import { ZJsonObject } from "./rows";

export type SourceKind = "host" | "remote_write" | "prometheus_pull" | "otlp" | "csv" | "self";

export interface SourceRow {
  id: number;
  name: string;
  kind: SourceKind;
  enabled: boolean;
  config: Record<string, unknown>;
  cardinalityLimit: number;
}


function toSource(r: Source): SourceRow {
  return { id: r.id, name: r.name, kind: r.kind, enabled: r.enabled, config: ZJsonObject.parse(r.config), cardinalityLimit: r.cardinalityLimit };
}

/**
 * Streams a source may have unless its settings say otherwise: what `ensureSource` gives a new
 * source (also the column's default in prisma/schema.prisma), and what a read-only check
 * assumes for a source not created yet.
 */
export const DEFAULT_CARDINALITY_LIMIT = 10_000;

/** Returns the source with this name, creating it on first use. */
export async function ensureSource(
  name: string,
  kind: SourceKind,
  config: Record<string, unknown> = {},
  cardinalityLimit?: number,
): Promise<SourceRow> {
  // INSERT … ON CONFLICT DO NOTHING, then read: two requests naming a new source at once both get
  // it (Prisma's upsert is not atomic here: racing callers failed on the unique name)
  await db().source.createMany({ data: [{ name, kind, config: ZJsonObject.parse(config), cardinalityLimit: cardinalityLimit ?? DEFAULT_CARDINALITY_LIMIT }], skipDuplicates: true });
  return toSource(await db().source.findUniqueOrThrow({ where: { name } }));
}

export async function updateSourceConfig(
  id: number,
  patch: { config?: Record<string, unknown>; enabled?: boolean; cardinalityLimit?: number },
): Promise<void> {
  await db().source.updateMany({
    where: { id },
    data: { config: patch.config ? ZJsonObject.parse(patch.config) : undefined, enabled: patch.enabled, cardinalityLimit: patch.cardinalityLimit },
  });
}

export async function listSources(): Promise<(SourceRow & { streamCount: number; lastSampleAtMs: number | null; archivedAtMs: number | null })[]> {
  const [sources, newest] = await Promise.all([
    db().source.findMany({ include: { _count: { select: { streams: true } } }, orderBy: { name: "asc" } }),
    db().stream.groupBy({ by: ["sourceId"], _max: { lastSampleAt: true } }),
  ]);
  const lastSample = new Map(newest.map((s) => [s.sourceId, s._max.lastSampleAt]));
  return sources.map((s) => ({
    ...toSource(s),
    streamCount: s._count.streams,
    lastSampleAtMs: lastSample.get(s.id)?.getTime() ?? null,
    archivedAtMs: s.archivedAt?.getTime() ?? null,
  }));
}

export async function getSourceByName(name: string): Promise<SourceRow | null> {
  const r = await db().source.findUnique({ where: { name } });
  return r ? toSource(r) : null;
}

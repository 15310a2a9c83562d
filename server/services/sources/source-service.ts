import { AppError } from "@/lib/errors/app-error";
import { stableJson } from "@/lib/config/settings";
import { ZPromPullSettings, ZPromPullState, type TPromPullSettings } from "@/lib/schemas/sources";
import { env } from "../../env";
import { ensureSource, getSourceByName, listSources, updateSourceConfig } from "../../repos/sources-repo";
import { purgeStreams, setSourceArchived, streamIdsOfSource } from "../../repos/stream-lifecycle-repo";
import { ensureIngestToken } from "../auth/ingest-token";
import { invalidateSourceCache, LABEL_LIMITS } from "../ingest/ingest-service";
import { testQuery } from "./prometheus-client";

/** `source.config.managedBy` of sources declared in omen.yaml. */
const FILE_MANAGED = "file";

export interface SourceView {
  id: number;
  name: string;
  kind: string;
  enabled: boolean;
  streamCount: number;
  cardinalityLimit: number;
  /** Declared in omen.yaml (read-only in the UI). */
  managedByFile: boolean;
  /** Newest sample of any of its streams (an import says how recent its data is, not "receiving"). */
  lastSampleAtMs: number | null;
  /** archived: its streams are off the overview and raise nothing */
  archivedAtMs: number | null;
  /** Prometheus pull sources only. */
  prometheus: (TPromPullSettings & { cursorMs: number | null; lastError: string | null; lastRunMs: number | null }) | null;
}

export async function listSourceViews(): Promise<SourceView[]> {
  return (await listSources()).map((s) => {
    let prometheus: SourceView["prometheus"] = null;
    if (s.kind === "prometheus_pull") {
      const settings = ZPromPullSettings.safeParse(s.config);
      const state = ZPromPullState.safeParse(s.config);
      if (settings.success) {
        prometheus = {
          ...settings.data,
          cursorMs: state.success ? (state.data.cursorMs ?? null) : null,
          lastError: state.success ? (state.data.lastError ?? null) : null,
          lastRunMs: state.success ? (state.data.lastRunMs ?? null) : null,
        };
      }
    }
    return {
      id: s.id,
      name: s.name,
      kind: s.kind,
      enabled: s.enabled,
      streamCount: s.streamCount,
      lastSampleAtMs: s.lastSampleAtMs,
      cardinalityLimit: s.cardinalityLimit,
      managedByFile: s.config.managedBy === FILE_MANAGED,
      archivedAtMs: s.archivedAtMs,
      prometheus,
    };
  });
}

export async function setCardinalityLimit(id: number, limit: number): Promise<void> {
  const src = (await listSources()).find((s) => s.id === id);
  if (!src) throw new AppError("NOT_FOUND", `Source ${id} does not exist.`);
  await updateSourceConfig(id, { cardinalityLimit: limit });
  invalidateSourceCache(src.name);
}

export async function setSourceEnabled(id: number, enabled: boolean): Promise<void> {
  await updateSourceConfig(id, { enabled });
}

/**
 * Applies the `sources:` block of omen.yaml: declared Prometheus pull sources are created or
 * updated (and marked as file-managed); file-managed sources the file no longer declares are
 * disabled, keeping their data. Returns how many sources changed and any conflicts.
 */
export async function syncFileSources(declared: { name: string; settings: TPromPullSettings }[]): Promise<{ changed: number; errors: string[] }> {
  const all = await listSources();
  let changed = 0;
  const errors: string[] = [];
  for (const d of declared) {
    const cur = all.find((s) => s.name === d.name);
    const curSettings = cur ? ZPromPullSettings.safeParse(cur.config) : null;
    const same =
      cur?.enabled && cur.config.managedBy === FILE_MANAGED && curSettings?.success && stableJson(curSettings.data) === stableJson(ZPromPullSettings.parse(d.settings));
    if (same) continue;
    try {
      const { id } = await savePrometheusSource(d.name, d.settings, FILE_MANAGED);
      if (cur && !cur.enabled) await setSourceEnabled(id, true);
      changed++;
    } catch (e) {
      errors.push(`omen.yaml: sources "${d.name}": ${(e as Error).message}`);
    }
  }
  for (const s of all) {
    if (s.config.managedBy === FILE_MANAGED && s.enabled && !declared.some((d) => d.name === s.name)) {
      await setSourceEnabled(s.id, false);
      changed++;
    }
  }
  return { changed, errors };
}

/** Adds (or updates the settings of) a Prometheus pull source; the worker picks it up within 5 s. */
export async function savePrometheusSource(name: string, settings: TPromPullSettings, managedBy?: typeof FILE_MANAGED): Promise<{ id: number }> {
  const existing = await getSourceByName(name);
  if (existing && existing.kind !== "prometheus_pull") {
    throw new AppError("CONFLICT", `A ${existing.kind} source is already called "${name}"; choose another name.`);
  }
  if (existing && !managedBy && existing.config.managedBy === FILE_MANAGED) {
    throw new AppError("CONFLICT", `The source "${name}" is declared in omen.yaml; change it there (the file is re-read every 10 s).`);
  }
  if (existing) {
    const sameUrl = (existing.config as { baseUrl?: string }).baseUrl === settings.baseUrl;
    // a new URL starts over (backfill again); otherwise keep the cursor
    const { managedBy: _previous, ...kept } = sameUrl ? existing.config : {};
    await updateSourceConfig(existing.id, { config: { ...kept, ...settings, ...(managedBy ? { managedBy } : {}) } });
    return { id: existing.id };
  }
  const src = await ensureSource(name, "prometheus_pull", { ...settings, ...(managedBy ? { managedBy } : {}) });
  return { id: src.id };
}

export async function testPrometheusQuery(baseUrl: string, query: string) {
  try {
    return { ok: true as const, ...(await testQuery(baseUrl.replace(/\/+$/, ""), query)) };
  } catch (e) {
    return { ok: false as const, error: (e as Error).message };
  }
}

/** What the settings page needs to show senders how to connect. */
export async function ingestSetup() {
  const e = env();
  // The token itself is never handed out again: senders use an API token with the ingest scope
  // (shown once when created), OMEN_INGEST_TOKEN, or the token printed at first start.
  return {
    tokenFromEnv: e.OMEN_INGEST_TOKEN !== undefined,
    maxBodyBytes: e.OMEN_MAX_BODY_BYTES,
    maxWorkerLag: e.OMEN_WORKER_MAX_LAG,
    labelLimits: LABEL_LIMITS,
  };
}

/** Deletes a source and everything under it; a source declared in omen.yaml is removed from the file instead. */
export async function removeSource(id: number): Promise<{ name: string; streams: number }> {
  const src = (await listSources()).find((s) => s.id === id);
  if (!src) throw new AppError("NOT_FOUND", `Source ${id} does not exist.`);
  if (src.config.managedBy === FILE_MANAGED) throw new AppError("CONFLICT", `Source "${src.name}" is declared in omen.yaml: remove it there.`);
  const ids = await streamIdsOfSource(id);
  const res = await purgeStreams(ids, id);
  invalidateSourceCache(src.name);
  return { name: src.name, streams: res.streams };
}

/**
 * Archives a source (or restores it): its streams leave the overview and raise no anomalies (so
 * nothing alerts), their history stays, and samples that still arrive are stored and scored.
 */
export async function archiveSource(id: number, archived: boolean): Promise<{ name: string; archived: boolean }> {
  const src = (await listSources()).find((s) => s.id === id);
  if (!src) throw new AppError("NOT_FOUND", `Source ${id} does not exist.`);
  await setSourceArchived(id, archived);
  return { name: src.name, archived };
}

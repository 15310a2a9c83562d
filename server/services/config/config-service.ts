/**
 * Detector configuration use cases: read a scope's settings with what it inherits, save with a
 * version row (who, when, what), revert to any version, and resolve every stream's effective
 * settings for the worker. File-managed scopes (omen.yaml) are read-only here.
 * (No "server-only" import: the worker uses this module too.)
 */
import { AppError } from "@/lib/errors/app-error";
import type { TStreamKind } from "@/lib/schemas/stream";
import {
  DEFAULT_SETTINGS,
  diffSettings,
  resolveSettings,
  scopeKey,
  ZDetectorSettings,
  type EffectiveSettings,
  type TConfigScope,
  type TDetectorSettings,
} from "@/lib/config/settings";
import {
  deleteConfig,
  getConfig,
  getConfigVersion,
  listConfigs,
  listConfigVersions,
  listGroups,
  listRecentVersions,
  listStreamScopes,
  saveConfig,
  type ConfigRow,
  type StreamScopeRow,
} from "../../repos/config-repo";
import { listSources } from "../../repos/sources-repo";
import { notifyWorkers } from "../commands/worker-commands";

export type ScopeTarget = { scope: TConfigScope; ref: string };

function normRef(t: ScopeTarget): ScopeTarget {
  return { scope: t.scope, ref: t.scope === "global" ? "" : t.ref.trim() };
}

/** The layers a scope inherits from, outermost first (global → source → group → stream). */
async function parentTargets(t: ScopeTarget): Promise<ScopeTarget[]> {
  if (t.scope === "global") return [];
  if (t.scope === "stream") {
    const [s] = await listStreamScopes({ ids: [Number(t.ref)] });
    if (!s) throw new AppError("NOT_FOUND", `Stream ${t.ref} does not exist.`);
    const out: ScopeTarget[] = [{ scope: "global", ref: "" }, { scope: "source", ref: String(s.sourceId) }];
    if (s.group) out.push({ scope: "group", ref: s.group });
    return out;
  }
  return [{ scope: "global", ref: "" }];
}

export function layersForStream(byKey: Map<string, ConfigRow>, s: Pick<StreamScopeRow, "id" | "sourceId" | "group">): (TDetectorSettings | undefined)[] {
  return [
    byKey.get(scopeKey("global", ""))?.settings,
    byKey.get(scopeKey("source", String(s.sourceId)))?.settings,
    s.group ? byKey.get(scopeKey("group", s.group))?.settings : undefined,
    byKey.get(scopeKey("stream", String(s.id)))?.settings,
  ];
}

export function indexConfigs(rows: ConfigRow[]): Map<string, ConfigRow> {
  return new Map(rows.map((r) => [scopeKey(r.scope, r.scopeRef), r]));
}

/** Effective settings of every stream (for the worker's reload and for the backtest). */
export async function effectiveSettingsByStream(
  streams?: StreamScopeRow[],
): Promise<{ global: EffectiveSettings; streams: Map<number, EffectiveSettings>; kinds: Map<number, TStreamKind> }> {
  const [rows, list] = await Promise.all([listConfigs(), streams ? Promise.resolve(streams) : listStreamScopes()]);
  const byKey = indexConfigs(rows);
  const out = new Map<number, EffectiveSettings>();
  const kinds = new Map<number, TStreamKind>();
  for (const s of list) {
    kinds.set(s.id, s.kind);
    const eff = resolveSettings(layersForStream(byKey, s));
    // archived: still scored (its samples are stored and charted) but raises nothing, so nothing alerts
    out.set(s.id, s.archived ? { ...eff, enabled: false } : eff);
  }
  return { global: resolveSettings([byKey.get(scopeKey("global", ""))?.settings]), streams: out, kinds };
}

/**
 * The band width the worker applies (global setting `bandSigmas`): stored and probed bands are
 * expected ± this many forecast sigmas. Bands stored before a change keep their old width.
 */
export async function configuredBandSigmas(): Promise<number> {
  return resolveSettings([(await getConfig("global", ""))?.settings]).bandSigmas;
}

export async function describeScope(target: ScopeTarget) {
  const t = normRef(target);
  const parents = await parentTargets(t);
  const [row, parentRows, versions] = await Promise.all([
    getConfig(t.scope, t.ref),
    Promise.all(parents.map((p) => getConfig(p.scope, p.ref))),
    listConfigVersions(t.scope, t.ref),
  ]);
  const inherited = resolveSettings(parentRows.map((r) => r?.settings));
  const effective = resolveSettings([row?.settings], inherited);
  return {
    scope: t.scope,
    ref: t.ref,
    current: row,
    inherited,
    effective,
    parents: parents.map((p, i) => ({ ...p, settings: parentRows[i]?.settings ?? null, managedBy: parentRows[i]?.managedBy ?? null })),
    versions: versions.map((v, i) => ({ ...v, changes: diffSettings(versions[i + 1]?.settings ?? {}, v.settings) })),
  };
}

export async function listScopeOptions(search?: string) {
  const [sources, groups, streams, configs] = await Promise.all([
    listSources(),
    listGroups(),
    listStreamScopes({ limit: 5000 }),
    listConfigs(),
  ]);
  const q = search?.toLowerCase();
  return {
    sources: sources.map((s) => ({ id: s.id, name: s.name, kind: s.kind, streams: s.streamCount })),
    groups,
    streams: streams.filter((s) => !q || s.key.toLowerCase().includes(q)).slice(0, 500).map((s) => ({ id: s.id, key: s.key, sourceName: s.sourceName })),
    configured: configs.map((c) => ({ scope: c.scope, ref: c.scopeRef, version: c.version, managedBy: c.managedBy, updatedBy: c.updatedBy, updatedAtMs: c.updatedAtMs })),
  };
}

function assertEditable(row: ConfigRow | null): void {
  if (row?.managedBy === "file") {
    throw new AppError("CONFLICT", "These settings are managed by omen.yaml and are read-only in the UI; change the file instead.");
  }
}

export async function saveScopeSettings(input: {
  target: ScopeTarget;
  settings: TDetectorSettings;
  author: string;
  note?: string;
  expectedVersion?: number;
}) {
  const t = normRef(input.target);
  if (t.scope !== "global" && !t.ref) throw new AppError("BAD_REQUEST", "A scope reference is required.");
  if (t.scope === "stream" || t.scope === "source") {
    await parentTargets(t.scope === "stream" ? t : { scope: "global", ref: "" });
  }
  const parsed = ZDetectorSettings.safeParse(input.settings);
  if (!parsed.success) throw new AppError("BAD_REQUEST", parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  const current = await getConfig(t.scope, t.ref);
  assertEditable(current);
  const changes = diffSettings(current?.settings ?? {}, parsed.data);
  const res = await saveConfig({
    scope: t.scope,
    scopeRef: t.ref,
    settings: parsed.data,
    author: input.author,
    note: input.note?.trim() || changes.join("; ") || "no change",
    managedBy: "ui",
    expectedVersion: input.expectedVersion,
  });
  if (!res.ok) {
    throw new AppError(
      "CONFLICT",
      `Someone else saved these settings meanwhile (now version ${res.current?.version ?? 0}, by ${res.current?.updatedBy ?? "?"}). Reload and try again.`,
    );
  }
  await notifyWorkers({ kind: "config" });
  return res.row;
}

/** Makes an old version current again (as a new version, so the history stays linear). */
export async function revertToVersion(versionId: number, author: string) {
  const v = await getConfigVersion(versionId);
  if (!v) throw new AppError("NOT_FOUND", `Configuration version ${versionId} does not exist.`);
  const current = await getConfig(v.scope, v.scopeRef);
  assertEditable(current);
  const res = await saveConfig({
    scope: v.scope,
    scopeRef: v.scopeRef,
    settings: v.settings,
    author,
    note: `revert to version ${v.version}`,
    managedBy: "ui",
  });
  if (!res.ok) throw new AppError("CONFLICT", "Concurrent change; try again.");
  await notifyWorkers({ kind: "config" });
  return res.row;
}

export async function clearScopeSettings(target: ScopeTarget, author: string) {
  const t = normRef(target);
  assertEditable(await getConfig(t.scope, t.ref));
  const removed = await deleteConfig(t.scope, t.ref, author, "override removed (inherit)");
  await notifyWorkers({ kind: "config" });
  return removed;
}

export async function recentChanges(limit = 30) {
  return listRecentVersions(limit);
}

export { DEFAULT_SETTINGS };

/**
 * Syncs omen.yaml into detector_config (managed_by = "file"): one row per rule target
 * (source / group, or each stream a `match` selector selects), the `global` block as the global
 * scope. Rows the file no longer declares are removed; every change gets a version row by
 * "omen.yaml". Invalid files change nothing and report line-precise errors. The `sources:`
 * block declares Prometheus pull sources (see `syncFileSources`).
 */
import fs from "node:fs";
import { compileSelector, fileSourceSettings, OmenYamlError, parseOmenYaml, ruleSettings, selectorMatches, type TOmenFile } from "@/lib/config/omen-yaml";
import { scopeKey, stableJson, type TConfigScope, type TDetectorSettings } from "@/lib/config/settings";
import { deleteConfig, listConfigs, listStreamScopes, saveConfig } from "../../repos/config-repo";
import { listSources } from "../../repos/sources-repo";
import { syncFileSources } from "../sources/source-service";

const AUTHOR = "omen.yaml";

export interface FileSyncResult {
  present: boolean;
  errors: string[];
  changed: number;
  global: { modelUpdateIntervalMs?: number; retentionMs?: number };
}

/** Desired scope → settings from a parsed file (rules later in the file win on the same scope). */
export async function fileTargets(f: TOmenFile): Promise<Map<string, { scope: TConfigScope; ref: string; settings: TDetectorSettings }>> {
  const out = new Map<string, { scope: TConfigScope; ref: string; settings: TDetectorSettings }>();
  const put = (scope: TConfigScope, ref: string, settings: TDetectorSettings) => {
    const k = scopeKey(scope, ref);
    out.set(k, { scope, ref, settings: { ...(out.get(k)?.settings ?? {}), ...settings } });
  };
  if (f.global) put("global", "", ruleSettings(f.global));
  const needStreams = f.rules.some((r) => r.match);
  const [sources, streams] = await Promise.all([listSources(), needStreams ? listStreamScopes() : Promise.resolve([])]);
  for (const r of f.rules) {
    const s = ruleSettings(r);
    if (r.source) {
      const src = sources.find((x) => x.name === r.source);
      if (src) put("source", String(src.id), s);
    } else if (r.group) {
      put("group", r.group, s);
    } else if (r.match) {
      const sel = compileSelector(r.match);
      for (const st of streams) if (selectorMatches(sel, st.metric, st.labels)) put("stream", String(st.id), s);
    }
  }
  return out;
}

export async function syncConfigFile(path: string): Promise<FileSyncResult> {
  if (!fs.existsSync(path)) {
    const stale = (await listConfigs()).filter((c) => c.managedBy === "file");
    for (const c of stale) await deleteConfig(c.scope, c.scopeRef, AUTHOR, "removed from omen.yaml (file deleted)");
    const sources = await syncFileSources([]); // file-managed sources are disabled, their data kept
    return { present: false, errors: [], changed: stale.length + sources.changed, global: {} };
  }
  let parsed: TOmenFile;
  try {
    parsed = parseOmenYaml(fs.readFileSync(path, "utf8"), path);
  } catch (e) {
    const errors = e instanceof OmenYamlError ? e.message.split("\n") : [String((e as Error).message)];
    return { present: true, errors, changed: 0, global: {} };
  }
  const sources = await syncFileSources(parsed.sources.map((x) => ({ name: x.name, settings: fileSourceSettings(x) })));
  if (sources.errors.length) return { present: true, errors: sources.errors, changed: sources.changed, global: {} };
  const desired = await fileTargets(parsed);
  const current = await listConfigs();
  let changed = sources.changed;
  for (const [k, d] of desired) {
    const cur = current.find((c) => scopeKey(c.scope, c.scopeRef) === k);
    if (cur && cur.managedBy === "file" && stableJson(cur.settings) === stableJson(d.settings)) continue;
    await saveConfig({ scope: d.scope, scopeRef: d.ref, settings: d.settings, author: AUTHOR, note: "from omen.yaml", managedBy: "file" });
    changed++;
  }
  for (const c of current) {
    if (c.managedBy === "file" && !desired.has(scopeKey(c.scope, c.scopeRef))) {
      await deleteConfig(c.scope, c.scopeRef, AUTHOR, "removed from omen.yaml");
      changed++;
    }
  }
  return {
    present: true,
    errors: [],
    changed,
    global: { modelUpdateIntervalMs: parsed.global?.modelUpdateInterval, retentionMs: parsed.global?.retention },
  };
}

/** Validates the file without applying it (for the settings page): present?, errors, rules. */
export function configFileStatus(path: string): { path: string; present: boolean; errors: string[]; rules: number } {
  if (!fs.existsSync(path)) return { path, present: false, errors: [], rules: 0 };
  try {
    const f = parseOmenYaml(fs.readFileSync(path, "utf8"), path);
    return { path, present: true, errors: [], rules: f.rules.length + (f.global ? 1 : 0) };
  } catch (e) {
    return { path, present: true, errors: e instanceof OmenYamlError ? e.message.split("\n") : [(e as Error).message], rules: 0 };
  }
}

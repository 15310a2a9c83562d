/**
 * `omen.yaml`: detector settings as code. Validated with zod; every error names the line and
 * column of the offending node (via the `yaml` package's node ranges and a LineCounter).
 *
 * ```yaml
 * version: 1
 * global:
 *   modelUpdateInterval: 5m      # how often the worker snapshots learnt state
 *   retention: 30d
 *   minTrainingSamples: 60
 *   bandSigmas: 3                # expected range = forecast ± 3 sigmas
 *   sensitivity: 1
 *   severities: { low: 60, medium: 80, high: 95 }
 * rules:
 *   - match: 'http_latency_ms{service="checkout"}'   # metric glob + labels; or `source:` / `group:`
 *     sensitivity: 0.8
 *     detectors: { gaps: false }
 *     trainingWindow: 14d
 *     seasonality: daily
 *     minDuration: 2m
 *     muteWindows:
 *       - { kind: daily, start: "02:00", end: "02:30", note: nightly backup }
 * sources:
 *   - name: prod-prometheus
 *     prometheus:
 *       url: http://prometheus:9090
 *       queries: [ 'node_load1', { name: api_p95, query: 'histogram_quantile(0.95, …)' } ]
 *       step: 15s
 *       backfill: 7d
 * ```
 */
import { isMap, isPair, isScalar, LineCounter, parseDocument, type Node as YamlNode } from "yaml";
import { z } from "zod";
import { ZPromPullSettings, ZPromQuery, ZSourceName, type TPromPullSettings } from "@/lib/schemas/sources";
import { SEASONALITY, ZBandSigmas, ZDetectorToggles, ZMuteWindow, ZSeverityCutoffs, type TDetectorSettings } from "./settings";

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** "90s", "5m", "2h", "7d", "1w" or a number of seconds → milliseconds. */
export const ZDuration = z.union([
  z.number().nonnegative().transform((n) => n * 1000),
  z
    .string()
    .regex(/^\d+(\.\d+)?\s*[smhdw]$/, 'must be a duration like "30s", "5m", "2h" or "7d"')
    .transform((s) => Number.parseFloat(s) * UNIT_MS[s.trim().slice(-1)]!),
]);

const ZRuleSettings = {
  enabled: z.boolean().optional(),
  sensitivity: z.number().min(0.1).max(5).optional(),
  severities: ZSeverityCutoffs.optional(),
  minDuration: ZDuration.optional(),
  detectors: ZDetectorToggles.partial().strict().optional(),
  seasonality: z.enum(SEASONALITY).optional(),
  trainingWindow: ZDuration.optional(),
  muteWindows: z.array(ZMuteWindow).optional(),
};

/** A metric selector: `name` or `name{label="value",…}`; `*` in the name is a wildcard. */
const SELECTOR_RE = /^([a-zA-Z_:*][a-zA-Z0-9_:*.]*)(\{\s*([a-zA-Z_][a-zA-Z0-9_]*\s*=\s*"[^"]*"\s*(,\s*[a-zA-Z_][a-zA-Z0-9_]*\s*=\s*"[^"]*"\s*)*)?\})?$/;

export const ZRule = z
  .object({
    match: z.string().regex(SELECTOR_RE, 'must be a metric selector like cpu_percent or http_latency_ms{service="api"}').optional(),
    source: z.string().min(1).optional(),
    group: z.string().min(1).optional(),
    ...ZRuleSettings,
  })
  .strict()
  .refine((r) => [r.match, r.source, r.group].filter((x) => x !== undefined).length === 1, {
    message: "a rule needs exactly one of `match`, `source` or `group`",
  });

/**
 * A Prometheus pull source declared in the file (the same settings as Settings → Sources):
 * `queries` items are PromQL strings or `{ name, query }` (name for results without __name__).
 */
export const ZFileSource = z
  .object({
    name: ZSourceName,
    prometheus: z
      .object({
        url: ZPromPullSettings.shape.baseUrl,
        queries: z.array(z.union([ZPromQuery.shape.query, ZPromQuery.strict()])).min(1, "add at least one query").max(50),
        step: ZDuration.refine((ms) => ms >= 1000 && ms <= 3_600_000, "must be between 1s and 1h").optional(),
        backfill: ZDuration.refine((ms) => ms <= 30 * 86_400_000, "must be at most 30d").optional(),
      })
      .strict(),
  })
  .strict();
export type TFileSource = z.infer<typeof ZFileSource>;

/** A file source as the settings a pull source keeps (`source.config`). */
export function fileSourceSettings(s: TFileSource): TPromPullSettings {
  return {
    baseUrl: s.prometheus.url,
    queries: s.prometheus.queries.map((q) => (typeof q === "string" ? { query: q } : q)),
    stepSeconds: Math.round((s.prometheus.step ?? 15_000) / 1000),
    backfillDays: (s.prometheus.backfill ?? 7 * 86_400_000) / 86_400_000,
  };
}

export const ZOmenFile = z
  .object({
    version: z.literal(1).default(1),
    global: z
      .object({
        modelUpdateInterval: ZDuration.optional(),
        retention: ZDuration.optional(),
        minTrainingSamples: z.number().int().min(10).max(100_000).optional(),
        bandSigmas: ZBandSigmas.optional(),
        ...ZRuleSettings,
      })
      .strict()
      .optional(),
    rules: z.array(ZRule).default([]),
    sources: z
      .array(ZFileSource)
      .default([])
      .refine((xs) => new Set(xs.map((x) => x.name)).size === xs.length, "source names must be unique"),
  })
  .strict();
export type TOmenFile = z.infer<typeof ZOmenFile>;
export type TRule = z.infer<typeof ZRule>;

export interface ConfigFileError {
  line: number;
  col: number;
  path: string;
  message: string;
}

export class OmenYamlError extends Error {
  override name = "OmenYamlError";
  constructor(
    readonly file: string,
    readonly errors: ConfigFileError[],
  ) {
    super(errors.map((e) => `${file}:${e.line}:${e.col}: ${e.path ? `${e.path}: ` : ""}${e.message}`).join("\n"));
  }
}

function pathText(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i ? "." : ""}${String(p)}`)).join("");
}

/** Parses and validates omen.yaml text; throws OmenYamlError with line-precise messages. */
export function parseOmenYaml(text: string, file = "omen.yaml"): TOmenFile {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true, uniqueKeys: true });
  const at = (offset: number) => lc.linePos(offset);
  if (doc.errors.length) {
    throw new OmenYamlError(
      file,
      doc.errors.map((e) => {
        const p = e.linePos?.[0] ?? at(e.pos[0]);
        return { line: p.line, col: p.col, path: "", message: e.message.split("\n")[0] ?? e.message };
      }),
    );
  }
  const res = ZOmenFile.safeParse(doc.toJS() ?? {});
  if (res.success) return res.data;
  const errors: ConfigFileError[] = res.error.issues.map((issue) => {
    const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
    let node: unknown = undefined;
    let keyPath = path;
    // Walk up to the deepest node that exists (a missing key is reported at its parent).
    for (let n = path.length; n >= 0; n--) {
      node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
      if (node) {
        keyPath = path.slice(0, n);
        break;
      }
    }
    let range = (node as YamlNode | undefined)?.range;
    if (issue.code === "unrecognized_keys" && isMap(node)) {
      const key = issue.keys[0];
      const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && it.key.value === key);
      if (pair && isScalar(pair.key) && pair.key.range) range = pair.key.range;
    }
    const p = at(range?.[0] ?? 0);
    return { line: p.line, col: p.col, path: pathText(issue.path.length ? issue.path : keyPath), message: issue.message };
  });
  throw new OmenYamlError(file, errors);
}

/** A rule's settings in the shape the database stores for a scope. */
export function ruleSettings(r: Omit<TRule, "match" | "source" | "group"> & { minTrainingSamples?: number; bandSigmas?: number }): TDetectorSettings {
  const s: TDetectorSettings = {};
  if (r.enabled !== undefined) s.enabled = r.enabled;
  if (r.sensitivity !== undefined) s.sensitivity = r.sensitivity;
  if (r.severities) s.severity = r.severities;
  if (r.minDuration !== undefined) s.minDurationSec = Math.round(r.minDuration / 1000);
  if (r.detectors) s.detectors = r.detectors;
  if (r.seasonality) s.seasonality = r.seasonality;
  if (r.trainingWindow !== undefined) s.trainingWindowDays = Math.max(1, Math.round(r.trainingWindow / 86_400_000));
  if (r.muteWindows) s.muteWindows = r.muteWindows;
  if (r.minTrainingSamples !== undefined) s.minTrainingSamples = r.minTrainingSamples;
  if (r.bandSigmas !== undefined) s.bandSigmas = r.bandSigmas;
  return s;
}

export interface SelectorMatcher {
  metric: RegExp;
  labels: Record<string, string>;
}

export function compileSelector(sel: string): SelectorMatcher {
  const m = SELECTOR_RE.exec(sel.trim());
  if (!m) throw new Error(`invalid selector ${sel}`);
  const name = m[1]!;
  const metric = new RegExp(`^${name.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
  const labels: Record<string, string> = {};
  for (const part of (m[3] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"([^"]*)"/g)) labels[part[1]!] = part[2]!;
  return { metric, labels };
}

export function selectorMatches(sel: SelectorMatcher, metric: string, labels: Record<string, string>): boolean {
  if (!sel.metric.test(metric)) return false;
  for (const [k, v] of Object.entries(sel.labels)) if (labels[k] !== v) return false;
  return true;
}

/**
 * Row-level scorer behind the CLI and the eval harness: feeds a table row by row (strictly
 * causal) through a DetectionEngine and returns one score per row = the max over streams and the
 * (weighted) multivariate score, with the flag, severity and type of the row's strongest
 * anomaly. Deterministic for a given table and config.
 */
import { DetectionEngine, likelihoodParams, type StepResult } from "./engine";
import { ScoreLikelihoodBank } from "./score-likelihood";
import type { EngineOptionsInput } from "./options";
import type { StreamKind } from "./types";

export interface ScoreTableInput {
  timestampsMs: Float64Array | number[];
  columns: { name: string; values: Float64Array; kind?: StreamKind }[];
}

export interface ScoreTableResult {
  score: Float64Array;
  isAnomaly: Uint8Array;
  severity: string[];
  type: string[];
}

/**
 * Sees every row right after it is scored (strictly causal: nothing later exists yet), e.g. to
 * rank causes or forecast; `step` is reused by the engine, valid only during the call.
 */
export type RowObserver = (row: number, step: StepResult, engine: DetectionEngine, flagged: boolean) => void;

export function scoreTable(table: ScoreTableInput, config?: EngineOptionsInput, observe?: RowObserver): ScoreTableResult {
  const rows = table.timestampsMs.length;
  for (const col of table.columns) {
    if (col.values.length !== rows) throw new Error(`column "${col.name}" has ${col.values.length} values, expected ${rows}`);
  }
  const explicitKinds = table.columns.some((c) => c.kind !== undefined);
  const multi = table.columns.length > 1 && config?.tableLikelihood === true;
  const engine = new DetectionEngine({ autoKind: !explicitKinds, ...config, ...(multi ? { likelihood: false } : {}) });
  const rowLk = multi ? new ScoreLikelihoodBank(likelihoodParams({ ...engine.options, likelihood: true })) : null;
  rowLk?.add();
  const ids = table.columns.map((c) => c.name);
  for (const col of table.columns) engine.addStream(col.name, col.kind ?? "gauge");
  const vals = new Float64Array(ids.length);
  const score = new Float64Array(rows);
  const isAnomaly = new Uint8Array(rows);
  const severity: string[] = new Array<string>(rows).fill("");
  const type: string[] = new Array<string>(rows).fill("");
  // a multivariate score needs two variables: on one stream Tier 2 is a second, uncalibrated
  // univariate detector (on nab-dev it only added false alarms: 40 → 34 rows without it)
  const mvw = table.columns.length > 1 ? engine.options.tier2.weight : 0;
  // the row's score is the largest of n streams' scores: Bonferroni, log10(n) decades less
  const o = engine.options;
  const multiplicity = o.likelihood && o.tableBonferroni ? (100 * Math.log10(ids.length)) / o.likelihoodScale : 0;
  // (three streams or more: with two, the pair is the whole table and its max already says it)
  const pairMultiplicity = o.likelihood && o.tableBonferroni && o.tablePairExponent > 0 && ids.length > 2 ? (100 * Math.log10((ids.length * (ids.length - 1)) / 2)) / o.likelihoodScale : -1;
  let lastT = -Infinity;
  for (let r = 0; r < rows; r++) {
    const t = Number(table.timestampsMs[r]);
    if (t < lastT) throw new Error(`row ${r}: timestamps must not go backwards`);
    lastT = t;
    for (let k = 0; k < ids.length; k++) vals[k] = table.columns[k]!.values[r]!;
    const res = engine.step(t, ids, vals);
    let best = -1;
    let bestScore = 0;
    for (let i = 0; i < res.score.length; i++) {
      if (res.inEvent[i] === 1 && res.score[i]! > bestScore) {
        bestScore = res.score[i]!;
        best = i;
      }
    }
    let rowScore = 0;
    let second = 0;
    for (let i = 0; i < res.score.length; i++) {
      const v = res.score[i]!;
      if (v > rowScore) {
        second = rowScore;
        rowScore = v;
      } else if (v > second) second = v;
    }
    rowScore -= multiplicity;
    if (pairMultiplicity >= 0) {
      // two anomalous streams on one row: joint evidence, less the multiplicity of pairs
      const pair = o.tablePairExponent * second - pairMultiplicity;
      if (pair > rowScore) rowScore = pair < 100 ? pair : 100;
    }
    if (rowScore < 0) rowScore = 0;
    const mv0 = res.multivariateScore * mvw;
    if (rowLk) {
      if (mv0 > rowScore) rowScore = mv0;
      rowScore = (100 * rowLk.update(0, rowScore / 100)) / o.likelihoodScale;
    }
    const mv = rowLk ? 0 : res.multivariateScore * mvw;
    const cut = engine.options.severity;
    if (mv > rowScore) rowScore = mv;
    if (res.breadthScore > rowScore) rowScore = res.breadthScore;
    score[r] = rowScore;
    if (best >= 0) {
      isAnomaly[r] = 1;
      severity[r] = res.severity[best] ?? "";
      type[r] = res.type[best] ?? "point";
    } else if (mv > cut.low || res.breadthScore > cut.low || res.pairScore > cut.low) {
      // the engine's collective event (`trackMvEvent`): its multivariate, breadth or pair score
      const c = Math.max(mv, res.breadthScore, res.pairScore);
      isAnomaly[r] = 1;
      severity[r] = c > cut.high ? "high" : c > cut.medium ? "medium" : "low";
      type[r] = "collective";
    }
    observe?.(r, res, engine, isAnomaly[r] === 1);
  }
  return { score, isAnomaly, severity, type };
}

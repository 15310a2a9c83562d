/**
 * Writes every synthetic scenario as CLI-format CSV plus a labels file, for demos and CLI tests.
 *
 *   npx tsx scripts/gen-scenarios.ts --out /tmp/scenarios [--seed N] [--time ms|iso] [--scenario a,b]
 *
 * Per scenario: `<name>.csv` (header `timestamp,<stream...>`, empty cell = missing) and
 * `<name>.labels.csv` (`start,end,kind,streams,description`, inclusive). `manifest.json` lists
 * each scenario's step, rows, streams (unit, kind), eval start and regime change.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { DEFAULT_SEED, generateScenarios, labelsToCsv, scenarioToCsv, SCENARIO_NAMES, type CsvTimeFormat } from "../lib/scenarios";

function parseArgs(argv: string[]): { out: string; seed: number; time: CsvTimeFormat; names?: string[] } {
  let out: string | undefined;
  let seed = DEFAULT_SEED;
  let time: CsvTimeFormat = "ms";
  let names: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--out") out = value();
    else if (a === "--seed") {
      seed = Number(value());
      if (!Number.isInteger(seed) || seed < 0) throw new Error("--seed must be a non-negative integer");
    } else if (a === "--time") {
      const t = value();
      if (t !== "ms" && t !== "iso") throw new Error("--time must be ms or iso");
      time = t;
    } else if (a === "--scenario") names = value().split(",").filter(Boolean);
    else if (a === "--help" || a === "-h") {
      process.stdout.write(`usage: npx tsx scripts/gen-scenarios.ts --out DIR [--seed N] [--time ms|iso] [--scenario ${SCENARIO_NAMES.join(",")}]\n`);
      process.exit(0);
    } else throw new Error(`unknown argument: ${a}`);
  }
  if (!out) throw new Error("--out DIR is required");
  return { out, seed, time, ...(names ? { names } : {}) };
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const dir = path.resolve(args.out);
  mkdirSync(dir, { recursive: true });
  const scenarios = generateScenarios({ seed: args.seed, ...(args.names ? { names: args.names } : {}) });
  const manifest = {
    seed: args.seed,
    time: args.time,
    scenarios: scenarios.map((s) => ({
      name: s.name,
      description: s.description,
      data: `${s.name}.csv`,
      labels: `${s.name}.labels.csv`,
      stepSec: s.stepMs / 1000,
      rows: s.timestampsMs.length,
      streams: s.columns.map((c) => ({ name: c.name, unit: c.unit, kind: c.kind })),
      evalStartMs: s.evalStartMs,
      anomalies: s.anomalies.length,
      ...(s.regimeChange ? { regimeChange: s.regimeChange } : {}),
    })),
  };
  for (const s of scenarios) {
    writeFileSync(path.join(dir, `${s.name}.csv`), scenarioToCsv(s, { time: args.time }));
    writeFileSync(path.join(dir, `${s.name}.labels.csv`), labelsToCsv(s, { time: args.time }));
  }
  writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
  process.stdout.write(`wrote ${scenarios.length} scenarios to ${dir}\n`);
}

try {
  main();
} catch (e) {
  process.stderr.write(`gen-scenarios: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}

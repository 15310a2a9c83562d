/**
 * The ingest fuzz's seed (server/http/ingest-fuzz.int.test.ts). `OMEN_FUZZ_SEED` when set, to
 * reproduce a run; else one derived from the commit under test, so that every commit's CI run
 * sends other inputs than the last one (one fixed seed only ever re-checked the same 10,000)
 * while a run stays reproducible from what it prints. Not the wall clock: the same commit
 * always fuzzes the same way. Without git (an exported tree) the fixed seed is used.
 */
import { execFileSync } from "node:child_process";

/** The seed used before seeds followed the commit, and without git. */
export const FIXED_FUZZ_SEED = 20261206;

export interface FuzzSeed {
  seed: number;
  /** where it came from, for the report */
  from: string;
}

/** The seed `Rng` takes (it uses the low 32 bits): the commit hash's first 8 hex digits. */
export function seedOfCommit(sha: string): number {
  if (!/^[0-9a-f]{8,}$/i.test(sha)) throw new Error(`not a commit hash: "${sha}"`);
  return Number.parseInt(sha.slice(0, 8), 16);
}

/** `env` (OMEN_FUZZ_SEED), else `head` (the commit's hash, or null without git), else the fixed seed. */
export function chooseFuzzSeed(env: string | undefined, head: string | null): FuzzSeed {
  if (env !== undefined && env !== "") {
    const seed = Number(env);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`OMEN_FUZZ_SEED must be an integer 0…4294967295, not "${env}"`);
    return { seed, from: "OMEN_FUZZ_SEED" };
  }
  if (head) return { seed: seedOfCommit(head), from: `commit ${head.slice(0, 12)}` };
  return { seed: FIXED_FUZZ_SEED, from: "fixed (no git commit found)" };
}

/** The checkout's HEAD commit, or null when there is no git or no repository. */
export function headCommit(cwd: string): string | null {
  try {
    return execFileSync("git", ["rev-parse", "HEAD"], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() || null;
  } catch {
    return null;
  }
}

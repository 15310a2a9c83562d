import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS, type EffectiveSettings } from "@/lib/config/settings";
import { readPartitionProgress } from "../../repos/partition-repo";
import { readScores } from "../../repos/storage/scores";
import { listStreams } from "../../repos/streams-repo";
import { ingestSeries } from "../../services/ingest/ingest-service";
import { natsUnreachable, openScaleOutWorld, waitFor, type ScaleOutWorld } from "../../testing/scale-out-workers";
import { PartitionRunner, type PartitionSettings } from "./partition-runner";

/**
 * A partition runner scores with the saved configuration its worker holds now (docs/scale-out.md,
 * "saved configuration"), on real NATS JetStream and PostgreSQL: also settings that its worker
 * loaded while the runner was starting, before the worker listed it among the runners its
 * config-reload job configures (a reload landing in the runner's start, e.g. while it reads the
 * newest feedback id of a fresh partition). Such settings once stayed out of the engine until
 * the configuration changed again. Seen through the score bands the runner writes, whose
 * half-width is `bandSigmas` forecast sigmas.
 */
const NATS_URL = process.env.TEST_NATS_URL ?? "nats://127.0.0.1:4222";
const STEP_MS = 10_000;
const STEPS = 120;

const unreachable = await natsUnreachable(NATS_URL);
const hasPostgres = Boolean(process.env.TEST_DATABASE_URL);
if (unreachable) console.log(`[scale-out settings] skipped: NATS at ${NATS_URL} is unreachable (${unreachable}); set TEST_NATS_URL`);
if (!hasPostgres) console.log("[scale-out settings] skipped: needs TEST_DATABASE_URL (PostgreSQL)");

const settings = (bandSigmas: number): PartitionSettings => {
  const global: EffectiveSettings = { ...DEFAULT_SETTINGS, minTrainingSamples: 10, bandSigmas };
  return { global, streams: new Map() };
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe.skipIf(Boolean(unreachable) || !hasPostgres)("scale-out: a partition runner's engine and the saved settings", () => {
  let world: ScaleOutWorld;
  let runner: PartitionRunner | null = null;
  const notes: string[] = [];
  beforeAll(async () => {
    world = await openScaleOutWorld({ natsUrl: NATS_URL, partitions: 1, name: "omen scale-out settings test" });
  });
  afterAll(async () => {
    await runner?.stop();
    await world?.close();
  });

  it("scores with the settings its worker holds, also those loaded while it was starting", async () => {
    // the worker's settings, as PartitionWorker holds them (replaced whole on every reload)
    let held = settings(1);
    runner = new PartitionRunner(world.log, 0, "settings-test", (m) => notes.push(m), 3_600_000, () => held);
    await runner.start();

    const t0 = Math.floor(Date.now() / STEP_MS) * STEP_MS - (2 * STEPS + 10) * STEP_MS;
    const send = (from: number) => {
      const steps = Array.from({ length: STEPS }, (_, k) => from + k);
      // a steady wave with a little noise: the forecast sigma stays about the same throughout
      return ingestSeries("settings-scale-out", "remote_write", [
        { metric: "settings_scale_out", labels: {}, kind: "gauge", tsMs: steps.map((k) => t0 + k * STEP_MS), values: steps.map((k) => 100 + 4 * Math.sin(k / 5) + (((k * 7) % 11) - 5) * 0.3) },
      ]);
    };
    const scored = async () => (await readPartitionProgress(world.log.names.stream)).reduce((a, p) => a + p.scored, 0);
    const fail = (e: Error) => {
      throw new Error(`${e.message}\n${notes.join("\n")}`);
    };

    await send(0);
    await waitFor("the first samples scored", async () => (await scored()) >= STEPS, 30_000).catch(fail);
    // a reload the worker made while this runner was not listed yet: no configure() reaches it
    held = settings(8);
    await send(STEPS);
    await waitFor("the next samples scored", async () => (await scored()) >= 2 * STEPS, 30_000).catch(fail);

    const [stream] = await listStreams({ search: "settings_scale_out" });
    const points = await readScores(stream!.id, t0, t0 + 2 * STEPS * STEP_MS, 10_000);
    const halfWidth = (from: number, to: number) =>
      points.filter((p) => p.t >= t0 + from * STEP_MS && p.t < t0 + to * STEP_MS && p.upper !== null && p.expected !== null).map((p) => p.upper! - p.expected!);
    // the last 60 steps of each batch (past the warm-up)
    const before = halfWidth(STEPS - 60, STEPS);
    const after = halfWidth(2 * STEPS - 60, 2 * STEPS);
    expect(before.length).toBeGreaterThan(30);
    expect(after.length).toBeGreaterThan(30);
    const ratio = median(after) / median(before);
    console.log(`[scale-out settings] band half-width, median: ${median(before).toFixed(3)} at bandSigmas 1, ${median(after).toFixed(3)} at 8 (ratio ${ratio.toFixed(2)})`);
    expect(ratio).toBeGreaterThan(5);
    expect(ratio).toBeLessThan(12);
  }, 120_000);
});

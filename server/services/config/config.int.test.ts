import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listAnomalies } from "../../repos/anomalies-repo";
import { getConfig, listConfigVersions } from "../../repos/config-repo";
import { listStreams } from "../../repos/streams-repo";
import { ingestSeries, invalidateSourceCache } from "../ingest/ingest-service";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { DetectPipeline } from "../../worker/pipeline/detect-pipeline";
import { createEngine, withSettings } from "../detection/engine-adapter";
import { runBacktest } from "../backtest/backtest-service";
import { syncConfigFile } from "./config-file";
import { ConfigReloader } from "./config-reload";
import { describeScope, effectiveSettingsByStream, revertToVersion, saveScopeSettings } from "./config-service";
import { hashNoise as noise } from "@/lib/scenarios/hash-noise";

describe.each(availableBackends())("detector configuration on %s", (backend) => {
  let tdb: TestDatabase;
  const step = 10_000;
  const n = 1200;
  const now = Date.UTC(2026, 10, 20, 12, 0, 0);
  const t0 = now - n * step;
  const spikes = [700, 900, 1100];
  let latencyId = 0;

  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
    const tsMs: number[] = [];
    const values: number[] = [];
    for (let i = 0; i < n; i++) {
      tsMs.push(t0 + i * step);
      values.push(spikes.some((s) => i >= s && i < s + 3) ? 100 + 60 * (1 + spikes.indexOf(spikes.find((s) => i >= s && i < s + 3)!)) : 100 + 4 * noise(i));
    }
    await ingestSeries("app", "remote_write", [{ metric: "latency_ms", labels: { service: "api" }, kind: "gauge", group: "web", tsMs, values }], now);
    latencyId = (await listStreams({ search: "latency_ms" }))[0]!.id;
  });
  afterAll(async () => tdb.drop());

  it("saves versions with authors, rejects stale edits, and reverts", async () => {
    const target = { scope: "stream" as const, ref: String(latencyId) };
    const v1 = await saveScopeSettings({ target, settings: { sensitivity: 0.5 }, author: "alice", expectedVersion: 0 });
    expect(v1.version).toBe(1);
    const v2 = await saveScopeSettings({ target, settings: { sensitivity: 2, minDurationSec: 30 }, author: "bob", expectedVersion: 1 });
    expect(v2.version).toBe(2);
    await expect(saveScopeSettings({ target, settings: { sensitivity: 3 }, author: "carol", expectedVersion: 1 })).rejects.toThrow(/Someone else/);
    const versions = await listConfigVersions("stream", target.ref);
    expect(versions.map((v) => [v.version, v.author])).toEqual([
      [2, "bob"],
      [1, "alice"],
    ]);
    const reverted = await revertToVersion(versions[1]!.id, "dave");
    expect(reverted.version).toBe(3);
    expect(reverted.settings).toEqual({ sensitivity: 0.5 });
    const d = await describeScope(target);
    expect(d.effective.sensitivity).toBe(0.5);
    expect(d.versions[0]!.note).toBe("revert to version 1");
    expect(d.versions[1]!.changes).toContain("sensitivity: 0.5 → 2");
    // inherited layers: a group setting shows up through the stream
    await saveScopeSettings({ target: { scope: "group", ref: "web" }, settings: { minDurationSec: 120 }, author: "alice" });
    const eff = await effectiveSettingsByStream();
    expect(eff.streams.get(latencyId)).toMatchObject({ sensitivity: 0.5, minDurationSec: 120 });
  });

  it("syncs omen.yaml as read-only file-managed settings and reports line-precise errors", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "omen-cfg-"));
    const file = path.join(dir, "omen.yaml");
    fs.writeFileSync(file, ["global:", "  minTrainingSamples: 80", "rules:", "  - match: 'latency_*{service=\"api\"}'", "    seasonality: daily", "    minDuration: 1m", "    muteWindows: [{ kind: daily, start: '01:00', end: '02:00' }]"].join("\n"));
    const r = await syncConfigFile(file);
    expect(r.errors).toEqual([]);
    expect(r.changed).toBe(2);
    const row = await getConfig("stream", String(latencyId));
    expect(row).toMatchObject({ managedBy: "file", settings: { seasonality: "daily" }, updatedBy: "omen.yaml" });
    await expect(saveScopeSettings({ target: { scope: "stream", ref: String(latencyId) }, settings: {}, author: "x" })).rejects.toThrow(/omen\.yaml/);
    expect((await syncConfigFile(file)).changed).toBe(0);
    fs.writeFileSync(file, "rules:\n  - match: latency_ms\n    sensitivity: 99\n");
    const bad = await syncConfigFile(file);
    expect(bad.errors[0]).toMatch(/omen\.yaml:3:18: rules\[0\]\.sensitivity/);
    expect((await getConfig("global", ""))?.settings).toEqual({ minTrainingSamples: 80 });
    fs.rmSync(file);
    expect((await syncConfigFile(file)).changed).toBe(2);
    expect(await getConfig("stream", String(latencyId))).toBeNull();
    fs.rmSync(dir, { recursive: true });
  });

  it("backtests current against proposed settings over the same history", async () => {
    const target = { scope: "stream" as const, ref: String(latencyId) };
    // The group "web" asks for 2 minutes minimum duration (first test): the 30 s spikes are not raised.
    const loud = await runBacktest({ target, proposed: { sensitivity: 1, minDurationSec: 0 }, days: 1 });
    expect(loud.streams[0]!.points).toBe(n);
    expect(loud.current.count).toBe(0);
    expect(loud.proposed.count).toBeGreaterThanOrEqual(2);
    expect(loud.proposed.anomalies[0]).toMatchObject({ streamId: latencyId, streamKey: 'latency_ms{service="api"}' });
    const strict = await runBacktest({ target, proposed: { sensitivity: 0.3, minDurationSec: 0 }, days: 1 });
    expect(strict.proposed.count).toBeLessThan(loud.proposed.count);
    const off = await runBacktest({ target, proposed: { enabled: false }, days: 1 });
    expect(off.proposed.count).toBe(0);
    expect(off.current.count).toBeGreaterThanOrEqual(0);
    expect(loud.elapsedMs).toBeLessThan(20_000); // generous: CI machines are shared
  });

  it("the worker applies saved settings: a disabled stream opens no anomaly, a re-enabled one does", async () => {
    const target = { scope: "stream" as const, ref: String(latencyId) };
    await saveScopeSettings({ target, settings: { enabled: false }, author: "alice" });
    await saveScopeSettings({ target: { scope: "group", ref: "web" }, settings: {}, author: "alice" });
    const engine = withSettings(createEngine());
    const reloader = new ConfigReloader(engine, null, () => undefined);
    expect(await reloader.run()).toBe(true);
    expect(await reloader.run()).toBe(false);
    const pipeline = new DetectPipeline(engine, 0, step, 100_000);
    await pipeline.tick(now + 60_000);
    expect((await listAnomalies({ streamId: latencyId })).total).toBe(0);
    expect(engine.suppressed.disabled).toBeGreaterThan(0);

    await saveScopeSettings({ target, settings: { enabled: true }, author: "alice" });
    const engine2 = withSettings(createEngine());
    await new ConfigReloader(engine2, null, () => undefined).run();
    await new DetectPipeline(engine2, 0, step, 100_000).tick(now + 60_000);
    expect((await listAnomalies({ streamId: latencyId })).total).toBeGreaterThan(0);
  });
});

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listSourceViews, savePrometheusSource } from "../sources/source-service";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { syncConfigFile } from "./config-file";

/** Prometheus pull sources declared in omen.yaml: created, updated, disabled when removed. */
describe.each(availableBackends())("omen.yaml sources on %s", (backend) => {
  let tdb: TestDatabase;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "omen-yaml-sources-"));
  const file = path.join(dir, "omen.yaml");
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
  });
  afterAll(async () => {
    await tdb.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const source = async (name: string) => (await listSourceViews()).find((s) => s.name === name);

  it("creates, updates and disables a declared Prometheus pull source; the UI cannot edit it", async () => {
    fs.writeFileSync(
      file,
      `sources:
  - name: prod
    prometheus:
      url: http://prometheus.example:9090/
      queries:
        - node_load1
        - { name: api_p95, query: 'histogram_quantile(0.95, sum by (le) (rate(x_bucket[5m])))' }
      step: 30s
      backfill: 2d
`,
    );
    let r = await syncConfigFile(file);
    expect(r.errors).toEqual([]);
    expect(r.changed).toBe(1);
    let s = await source("prod");
    expect(s).toMatchObject({ kind: "prometheus_pull", enabled: true, managedByFile: true });
    expect(s!.prometheus).toMatchObject({
      baseUrl: "http://prometheus.example:9090",
      stepSeconds: 30,
      backfillDays: 2,
      queries: [{ query: "node_load1" }, { name: "api_p95", query: "histogram_quantile(0.95, sum by (le) (rate(x_bucket[5m])))" }],
    });
    // unchanged file: nothing to do
    expect((await syncConfigFile(file)).changed).toBe(0);
    await expect(savePrometheusSource("prod", { baseUrl: "http://other:9090", queries: [{ query: "up" }], stepSeconds: 15, backfillDays: 7 })).rejects.toThrow(
      /declared in omen.yaml; change it there/,
    );

    fs.writeFileSync(file, `sources:\n  - name: prod\n    prometheus:\n      url: http://prometheus.example:9090\n      queries: [up]\n`);
    r = await syncConfigFile(file);
    expect(r.changed).toBe(1);
    s = await source("prod");
    expect(s!.prometheus).toMatchObject({ queries: [{ query: "up" }], stepSeconds: 15, backfillDays: 7 });

    fs.writeFileSync(file, "rules: []\n");
    r = await syncConfigFile(file);
    expect(r.changed).toBe(1);
    expect(await source("prod")).toMatchObject({ enabled: false, managedByFile: true });
  });

  it("names the line of an invalid source and changes nothing", async () => {
    fs.writeFileSync(file, `sources:\n  - name: broken\n    prometheus:\n      url: ftp://nope\n      queries: [up]\n      backfill: 90d\n`);
    const r = await syncConfigFile(file);
    expect(r.errors.join("\n")).toMatch(/omen\.yaml:4:\d+: sources\[0\]\.prometheus\.url: .*http/);
    expect(r.errors.join("\n")).toMatch(/omen\.yaml:6:\d+: sources\[0\]\.prometheus\.backfill: must be at most 30d/);
    expect(await source("broken")).toBeUndefined();
  });
});

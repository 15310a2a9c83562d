import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { ensureSource, getSourceByName } from "../../repos/sources-repo";
import { pullSource } from "./prometheus-pull";

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe.each(availableBackends())("Prometheus pull errors on %s", (backend) => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
  });
  afterAll(async () => tdb.drop());

  it("a first pull that fails (no cursor yet) records its error on the source instead of throwing", async () => {
    const port = await closedPort();
    const src = await ensureSource("prom-down", "prometheus_pull", { baseUrl: `http://127.0.0.1:${port}`, queries: [{ query: "up" }], stepSeconds: 15, backfillDays: 1 });
    const now = Date.UTC(2026, 11, 7, 12);
    const r = await pullSource(src, now);
    expect(r).toMatchObject({ source: "prom-down", chunks: 0, samples: 0 });
    expect(r.error).toBeTruthy();
    const saved = (await getSourceByName("prom-down"))!.config;
    expect(saved.lastError).toBe(r.error);
    expect(saved.lastRunMs).toBe(now);
    expect(saved).not.toHaveProperty("cursorMs");
    // the settings survive next to the state
    expect(saved.queries).toEqual([{ query: "up" }]);
  });
});

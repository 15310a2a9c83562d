import { AppError } from "@/lib/errors/app-error";
import { ZPromPullSettings, ZPromPullState, type TPromPullSettings } from "@/lib/schemas/sources";
import { env } from "../../env";
import { ensureSource, getSourceByName, listSources, updateSourceConfig } from "../../repos/sources-repo";
import { ensureIngestToken } from "../auth/ingest-token";
import { invalidateSourceCache, LABEL_LIMITS } from "../ingest/ingest-service";
import { testQuery } from "./prometheus-client";

export interface SourceView {
  id: number;
  name: string;
  kind: string;
  enabled: boolean;
  streamCount: number;
  cardinalityLimit: number;
  /** Prometheus pull sources only. */
  prometheus: (TPromPullSettings & { cursorMs: number | null; lastError: string | null; lastRunMs: number | null }) | null;
}

export async function listSourceViews(): Promise<SourceView[]> {
  return (await listSources()).map((s) => {
    let prometheus: SourceView["prometheus"] = null;
    if (s.kind === "prometheus_pull") {
      const settings = ZPromPullSettings.safeParse(s.config);
      const state = ZPromPullState.safeParse(s.config);
      if (settings.success) {
        prometheus = {
          ...settings.data,
          cursorMs: state.success ? (state.data.cursorMs ?? null) : null,
          lastError: state.success ? (state.data.lastError ?? null) : null,
          lastRunMs: state.success ? (state.data.lastRunMs ?? null) : null,
        };
      }
    }
    return {
      id: s.id,
      name: s.name,
      kind: s.kind,
      enabled: s.enabled,
      streamCount: s.streamCount,
      cardinalityLimit: s.cardinalityLimit,
      prometheus,
    };
  });
}

export async function setCardinalityLimit(id: number, limit: number): Promise<void> {
  const src = (await listSources()).find((s) => s.id === id);
  if (!src) throw new AppError("NOT_FOUND", `Source ${id} does not exist.`);
  await updateSourceConfig(id, { cardinalityLimit: limit });
  invalidateSourceCache(src.name);
}

export async function setSourceEnabled(id: number, enabled: boolean): Promise<void> {
  await updateSourceConfig(id, { enabled });
}

/** Adds (or updates the settings of) a Prometheus pull source; the worker picks it up within 5 s. */
export async function savePrometheusSource(name: string, settings: TPromPullSettings): Promise<{ id: number }> {
  const existing = await getSourceByName(name);
  if (existing && existing.kind !== "prometheus_pull") {
    throw new AppError("CONFLICT", `A ${existing.kind} source is already called "${name}"; choose another name.`);
  }
  if (existing) {
    const sameUrl = (existing.config as { baseUrl?: string }).baseUrl === settings.baseUrl;
    // a new URL starts over (backfill again); otherwise keep the cursor
    await updateSourceConfig(existing.id, { config: { ...(sameUrl ? existing.config : {}), ...settings } });
    return { id: existing.id };
  }
  const src = await ensureSource(name, "prometheus_pull", settings);
  return { id: src.id };
}

export async function testPrometheusQuery(baseUrl: string, query: string) {
  try {
    return { ok: true as const, ...(await testQuery(baseUrl.replace(/\/+$/, ""), query)) };
  } catch (e) {
    return { ok: false as const, error: (e as Error).message };
  }
}

/** What the settings page needs to show senders how to connect. */
export async function ingestSetup() {
  const { token, origin } = await ensureIngestToken();
  const e = env();
  return {
    token,
    tokenFromEnv: origin === "env",
    maxBodyBytes: e.OMEN_MAX_BODY_BYTES,
    maxWorkerLag: e.OMEN_WORKER_MAX_LAG,
    labelLimits: LABEL_LIMITS,
  };
}

import { z } from "zod";
import { ZId } from "@/lib/schemas/ids";
import { ZPromPullSettings, ZSourceName } from "@/lib/schemas/sources";
import {
  archiveSource,
  ingestSetup,
  listSourceViews,
  savePrometheusSource,
  setCardinalityLimit,
  setSourceEnabled,
  testPrometheusQuery,
} from "../../services/sources/source-service";
import { adminProcedure, viewerProcedure, createTRPCRouter } from "../trpc";

export const sourcesRouter = createTRPCRouter({
  list: viewerProcedure.query(() => listSourceViews()),
  ingestSetup: viewerProcedure.query(() => ingestSetup()),
  setCardinalityLimit: adminProcedure
    .input(z.object({ id: ZId, limit: z.number().int().min(1).max(10_000_000) }))
    .mutation(({ input }) => setCardinalityLimit(input.id, input.limit)),
  setEnabled: adminProcedure
    .input(z.object({ id: ZId, enabled: z.boolean() }))
    .mutation(({ input }) => setSourceEnabled(input.id, input.enabled)),
  savePrometheus: adminProcedure
    .input(z.object({ name: ZSourceName, settings: ZPromPullSettings }))
    .mutation(({ input }) => savePrometheusSource(input.name, input.settings)),
  /** Archives (streams off the overview, nothing alerts, history kept) or restores a source. */
  archive: adminProcedure.input(z.object({ id: ZId, archived: z.boolean() })).mutation(({ input }) => archiveSource(input.id, input.archived)),
  testPrometheusQuery: adminProcedure
    .input(z.object({ baseUrl: z.string().url(), query: z.string().min(1).max(2000) }))
    .mutation(({ input }) => testPrometheusQuery(input.baseUrl, input.query)),
});

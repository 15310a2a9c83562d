import { z } from "zod";
import { ZId as ZIncidentId, ZId as ZRowId } from "@/lib/schemas/ids";
import { ZAnomalyLabel, ZAnomalyStatus } from "@/lib/schemas/stream";
import { retryGivenUpDelivery } from "../../services/alerts/retry-delivery";
import { removeSource } from "../../services/sources/source-service";
import { needsAttention } from "../../services/triage/attention-service";
import {
  labelMatching,
  labelSimilar,
  labelSimilarToIncident,
  previewSimilar,
  previewSimilarToIncident,
  setStatusMatching,
} from "../../services/triage/bulk-service";
import { adminProcedure, createTRPCRouter, operatorProcedure, viewerProcedure } from "../trpc";
import { ZAnomalyListInput } from "./anomalies";

/** The queue's filter (no sort or paging): a bulk action applies to everything it matches. */
const ZFilter = ZAnomalyListInput.pick({ status: true, severity: true, type: true, label: true, streamId: true, search: true, historical: true, fromMs: true, toMs: true });
const ZId = z.string().min(1).max(64);

export const triageRouter = createTRPCRouter({
  attention: viewerProcedure.query(() => needsAttention()),
  setStatusMatching: operatorProcedure
    .input(z.object({ filter: ZFilter, status: ZAnomalyStatus }))
    .mutation(({ input, ctx }) => setStatusMatching(input.filter, input.status, ctx.actor)),
  labelMatching: operatorProcedure
    .input(z.object({ filter: ZFilter, label: ZAnomalyLabel.nullable() }))
    .mutation(({ input, ctx }) => labelMatching(input.filter, input.label, ctx.actor)),
  retryDelivery: operatorProcedure.input(z.object({ id: ZRowId })).mutation(({ input }) => retryGivenUpDelivery(input.id)),
  deleteSource: adminProcedure.input(z.object({ id: ZRowId })).mutation(({ input }) => removeSource(input.id)),
  similarPreview: viewerProcedure.input(z.object({ id: ZId })).query(({ input }) => previewSimilar(input.id)),
  labelSimilar: operatorProcedure
    .input(z.object({ id: ZId, label: ZAnomalyLabel, expectedTotal: z.number().int().min(0) }))
    .mutation(({ input, ctx }) => labelSimilar(input.id, input.label, input.expectedTotal, ctx.actor)),
  incidentSimilarPreview: viewerProcedure.input(z.object({ incidentId: ZIncidentId })).query(({ input }) => previewSimilarToIncident(input.incidentId)),
  labelIncidentSimilar: operatorProcedure
    .input(z.object({ incidentId: ZIncidentId, label: ZAnomalyLabel, expectedTotal: z.number().int().min(0) }))
    .mutation(({ input, ctx }) => labelSimilarToIncident(input.incidentId, input.label, input.expectedTotal, ctx.actor)),
});

import { z } from "zod";
import { ZAnomalyLabel, ZAnomalyStatus } from "@/lib/schemas/stream";
import { retryGivenUpDelivery } from "../../services/alerts/retry-delivery";
import { removeSource } from "../../services/sources/source-service";
import { needsAttention } from "../../services/triage/attention-service";
import { labelMatching, labelSimilar, previewSimilar, setStatusMatching } from "../../services/triage/bulk-service";
import { createTRPCRouter, publicProcedure } from "../trpc";
import { ZAnomalyListInput } from "./anomalies";

/** The queue's filter (no sort or paging): a bulk action applies to everything it matches. */
const ZFilter = ZAnomalyListInput.pick({ status: true, severity: true, type: true, label: true, streamId: true, search: true, historical: true, fromMs: true, toMs: true });
const ZId = z.string().min(1).max(64);

export const triageRouter = createTRPCRouter({
  attention: publicProcedure.query(() => needsAttention()),
  setStatusMatching: publicProcedure
    .input(z.object({ filter: ZFilter, status: ZAnomalyStatus }))
    .mutation(({ input, ctx }) => setStatusMatching(input.filter, input.status, ctx.actor)),
  labelMatching: publicProcedure
    .input(z.object({ filter: ZFilter, label: ZAnomalyLabel.nullable() }))
    .mutation(({ input, ctx }) => labelMatching(input.filter, input.label, ctx.actor)),
  retryDelivery: publicProcedure.input(z.object({ id: z.number().int().positive() })).mutation(({ input }) => retryGivenUpDelivery(input.id)),
  deleteSource: publicProcedure.input(z.object({ id: z.number().int().positive() })).mutation(({ input }) => removeSource(input.id)),
  similarPreview: publicProcedure.input(z.object({ id: ZId })).query(({ input }) => previewSimilar(input.id)),
  labelSimilar: publicProcedure
    .input(z.object({ id: ZId, label: ZAnomalyLabel, expectedTotal: z.number().int().min(0) }))
    .mutation(({ input, ctx }) => labelSimilar(input.id, input.label, input.expectedTotal, ctx.actor)),
});

import { z } from "zod";
import { ZCount, ZEpochMs, ZId } from "@/lib/schemas/ids";
import { ZAnomalyLabel, ZAnomalyStatus, ZAnomalyType, ZSeverity } from "@/lib/schemas/stream";
import {
  anomalyDetail,
  changeStatus,
  commentOnAnomaly,
  findAnomalies,
  labelAnomalies,
  openAnomalyCounts,
} from "../../services/anomalies/anomaly-service";
import { operatorProcedure, viewerProcedure, createTRPCRouter } from "../trpc";

const ZIds = z.array(z.string().min(1).max(64)).min(1).max(500);

export const ZAnomalyListInput = z.object({
  status: z.array(ZAnomalyStatus).optional(),
  severity: z.array(ZSeverity).optional(),
  type: z.array(ZAnomalyType).optional(),
  label: z.array(ZAnomalyLabel).optional(),
  streamId: ZId.optional(),
  search: z.string().max(200).optional(),
  historical: z.boolean().optional(),
  fromMs: ZEpochMs.optional(),
  toMs: ZEpochMs.optional(),
  sort: z.enum(["start", "severity", "score"]).default("start"),
  dir: z.enum(["asc", "desc"]).default("desc"),
  limit: z.number().int().min(1).max(500).default(100),
  offset: ZCount.default(0),
});

export const anomaliesRouter = createTRPCRouter({
  list: viewerProcedure.input(ZAnomalyListInput).query(({ input }) => findAnomalies(input)),
  openCounts: viewerProcedure.query(() => openAnomalyCounts()),
  detail: viewerProcedure.input(z.object({ id: z.string().min(1).max(64) })).query(({ input }) => anomalyDetail(input.id)),
  setStatus: operatorProcedure
    .input(z.object({ ids: ZIds, status: ZAnomalyStatus }))
    .mutation(({ input, ctx }) => changeStatus(input.ids, input.status, ctx.actor)),
  label: operatorProcedure
    .input(z.object({ ids: ZIds, label: ZAnomalyLabel.nullable(), comment: z.string().max(2000).nullish() }))
    .mutation(({ input, ctx }) => labelAnomalies(input.ids, input.label, input.comment ?? null, ctx.actor)),
  comment: operatorProcedure
    .input(z.object({ id: z.string().min(1).max(64), comment: z.string().min(1).max(2000) }))
    .mutation(({ input, ctx }) => commentOnAnomaly(input.id, input.comment, ctx.actor)),
});

import { z } from "zod";
import { ZEpochMs, ZId } from "@/lib/schemas/ids";
import { getStreamDetail, listStreamsWithSparklines, RANGES, type TRange } from "../../services/streams/stream-service";
import { viewerProcedure, createTRPCRouter } from "../trpc";

const ZRange = z.enum(Object.keys(RANGES) as [TRange, ...TRange[]]);

export const streamsRouter = createTRPCRouter({
  list: viewerProcedure
    .input(
      z
        .object({
          search: z.string().max(200).optional(),
          sourceId: ZId.optional(),
          group: z.string().max(200).optional(),
          limit: z.number().int().min(1).max(2000).default(500),
        })
        .default({ limit: 500 }),
    )
    .query(({ input }) => listStreamsWithSparklines(input)),
  detail: viewerProcedure
    .input(
      z
        .object({
          id: ZId,
          range: ZRange.optional(),
          fromMs: ZEpochMs.optional(),
          toMs: ZEpochMs.optional(),
        })
        .refine((v) => (v.fromMs === undefined) === (v.toMs === undefined), { message: "Give both the start and the end of the range." }),
    )
    .query(({ input }) => getStreamDetail(input.id, { range: input.range, fromMs: input.fromMs, toMs: input.toMs })),
});

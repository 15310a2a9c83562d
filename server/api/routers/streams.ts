import { z } from "zod";
import { getStreamDetail, listStreamsWithSparklines, RANGES, type TRange } from "../../services/streams/stream-service";
import { viewerProcedure, createTRPCRouter } from "../trpc";

const ZRange = z.enum(Object.keys(RANGES) as [TRange, ...TRange[]]);

export const streamsRouter = createTRPCRouter({
  list: viewerProcedure
    .input(
      z
        .object({
          search: z.string().max(200).optional(),
          sourceId: z.number().int().optional(),
          group: z.string().max(200).optional(),
          limit: z.number().int().min(1).max(2000).default(500),
        })
        .default({ limit: 500 }),
    )
    .query(({ input }) => listStreamsWithSparklines(input)),
  detail: viewerProcedure
    .input(z.object({ id: z.number().int().positive(), range: ZRange.default("1h") }))
    .query(({ input }) => getStreamDetail(input.id, input.range)),
});

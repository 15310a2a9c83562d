import { z } from "zod";
import { ZEpochMs, ZId } from "@/lib/schemas/ids";
import { getStreamDetail, listStreamsWithSeverity, MAX_SPARKLINE_STREAMS, RANGES, streamSparklines, type TRange } from "../../services/streams/stream-service";
import { archiveStream, changeStreamKind, deleteStream } from "../../services/streams/stream-lifecycle";
import { ZStreamKind } from "@/lib/schemas/stream";
import { operatorProcedure, viewerProcedure, createTRPCRouter } from "../trpc";

const ZRange = z.enum(Object.keys(RANGES) as [TRange, ...TRange[]]);

export const streamsRouter = createTRPCRouter({
  list: viewerProcedure
    .input(
      z
        .object({
          search: z.string().max(200).optional(),
          sourceId: ZId.optional(),
          group: z.string().max(200).optional(),
          archived: z.boolean().optional(),
          limit: z.number().int().min(1).max(2000).default(500),
        })
        .default({ limit: 500 }),
    )
    .query(({ input }) => listStreamsWithSeverity(input)),
  /** Sparkline points (last 30 minutes) of the streams whose cards are on screen. */
  sparklines: viewerProcedure
    .input(z.object({ ids: z.array(ZId).max(MAX_SPARKLINE_STREAMS, `Ask for the sparklines of at most ${MAX_SPARKLINE_STREAMS} streams at once.`) }))
    .query(({ input }) => streamSparklines(input.ids)),
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
  /** Deletes the stream with its samples, scores and anomalies. */
  delete: operatorProcedure.input(z.object({ id: ZId })).mutation(({ input }) => deleteStream(input.id)),
  /** Archives (hides, stops alerting, keeps history) or restores a stream. */
  archive: operatorProcedure.input(z.object({ id: ZId, archived: z.boolean() })).mutation(({ input }) => archiveStream(input.id, input.archived)),
  /** Corrects the stream's kind (a gauge or a counter); its models restart at the worker's next config reload. */
  setKind: operatorProcedure
    .input(z.object({ id: ZId, kind: ZStreamKind.extract(["gauge", "counter"], { message: "A stream can be made a gauge or a counter." }) }))
    .mutation(({ input }) => changeStreamKind(input.id, input.kind)),
});

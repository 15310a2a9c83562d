import { z } from "zod";
import { ZAnomalyStatus, ZSeverity } from "@/lib/schemas/stream";
import { findAnomalies, openAnomalyCounts } from "../../services/anomalies/anomaly-service";
import { createTRPCRouter, publicProcedure } from "../trpc";

export const anomaliesRouter = createTRPCRouter({
  list: publicProcedure
    .input(
      z.object({
        status: z.array(ZAnomalyStatus).optional(),
        severity: z.array(ZSeverity).optional(),
        streamId: z.number().int().optional(),
        limit: z.number().int().min(1).max(500).default(100),
      }),
    )
    .query(({ input }) => findAnomalies(input)),
  openCounts: publicProcedure.query(() => openAnomalyCounts()),
});

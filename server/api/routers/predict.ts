import { z } from "zod";
import { ZId } from "@/lib/schemas/ids";
import { predictedIncidents, streamPrediction } from "../../services/predict/predict-service";
import { viewerProcedure, createTRPCRouter } from "../trpc";

export const predictRouter = createTRPCRouter({
  incidents: viewerProcedure
    .input(z.object({ minProbability: z.number().min(0).max(1).default(0.5), limit: z.number().int().min(1).max(200).default(50) }).default({ minProbability: 0.5, limit: 50 }))
    .query(({ input }) => predictedIncidents(input.minProbability, input.limit)),
  forStream: viewerProcedure.input(z.object({ id: ZId })).query(({ input }) => streamPrediction(input.id)),
});

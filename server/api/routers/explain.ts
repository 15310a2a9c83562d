import { z } from "zod";
import { explainAnomaly } from "../../services/explain/explain-service";
import { viewerProcedure, createTRPCRouter } from "../trpc";

export const explainRouter = createTRPCRouter({
  anomaly: viewerProcedure.input(z.object({ id: z.string().uuid() })).query(({ input }) => explainAnomaly(input.id)),
});

import { z } from "zod";
import { explainAnomaly } from "../../services/explain/explain-service";
import { createTRPCRouter, publicProcedure } from "../trpc";

export const explainRouter = createTRPCRouter({
  anomaly: publicProcedure.input(z.object({ id: z.string().uuid() })).query(({ input }) => explainAnomaly(input.id)),
});

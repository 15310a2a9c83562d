import { healthReport } from "../../services/health/health-service";
import { createTRPCRouter, publicProcedure } from "../trpc";

export const systemRouter = createTRPCRouter({
  health: publicProcedure.query(() => healthReport()),
});

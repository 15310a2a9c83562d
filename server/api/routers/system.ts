import { healthReport } from "../../services/health/health-service";
import { viewerProcedure, createTRPCRouter } from "../trpc";

export const systemRouter = createTRPCRouter({
  health: viewerProcedure.query(() => healthReport()),
});

import { needsAttention } from "../../services/triage/attention-service";
import { createTRPCRouter, publicProcedure } from "../trpc";

export const triageRouter = createTRPCRouter({
  attention: publicProcedure.query(() => needsAttention()),
});

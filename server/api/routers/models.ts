import { z } from "zod";
import { ZId } from "@/lib/schemas/ids";
import { requestRollback, requestSnapshot, snapshotOverview } from "../../services/models/model-service";
import { createTRPCRouter, publicProcedure } from "../trpc";

export const modelsRouter = createTRPCRouter({
  snapshots: publicProcedure.query(() => snapshotOverview()),
  snapshotNow: publicProcedure.mutation(({ ctx }) => requestSnapshot(ctx.actor)),
  rollback: publicProcedure.input(z.object({ snapshotId: ZId })).mutation(({ input, ctx }) => requestRollback(input.snapshotId, ctx.actor)),
});

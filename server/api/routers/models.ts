import { z } from "zod";
import { ZId } from "@/lib/schemas/ids";
import { requestRollback, requestSnapshot, snapshotOverview } from "../../services/models/model-service";
import { adminProcedure, operatorProcedure, viewerProcedure, createTRPCRouter } from "../trpc";

export const modelsRouter = createTRPCRouter({
  snapshots: viewerProcedure.query(() => snapshotOverview()),
  snapshotNow: operatorProcedure.mutation(({ ctx }) => requestSnapshot(ctx.actor)),
  rollback: adminProcedure.input(z.object({ snapshotId: ZId })).mutation(({ input, ctx }) => requestRollback(input.snapshotId, ctx.actor)),
});

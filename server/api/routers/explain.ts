import { z } from "zod";
import { explainAnomaly } from "../../services/explain/explain-service";
import { incidentReport } from "../../services/explain/incident-report-service";
import { createTRPCRouter, viewerProcedure } from "../trpc";

export const explainRouter = createTRPCRouter({
  anomaly: viewerProcedure.input(z.object({ id: z.string().uuid() })).query(({ input }) => explainAnomaly(input.id)),
  /** Markdown post-mortem draft of one anomaly (downloaded from the anomaly page). */
  report: viewerProcedure.input(z.object({ id: z.string().uuid() })).query(({ input }) => incidentReport(input.id)),
});

import { z } from "zod";
import { ZCount, ZEpochMs, ZId } from "@/lib/schemas/ids";
import { ZAnomalyLabel, ZAnomalyStatus, ZSeverity } from "@/lib/schemas/stream";
import {
  changeIncidentStatus,
  findIncidents,
  incidentDetail,
  labelIncidents,
  labelIncidentsMatching,
  openIncidentCounts,
  setIncidentStatusMatching,
} from "../../services/incidents/incident-service";
import { createTRPCRouter, operatorProcedure, viewerProcedure } from "../trpc";

const ZIds = z.array(ZId).min(1).max(500);

/** The incidents list's filter; bulk actions take it without sort or paging. */
const ZIncidentFilter = z.object({
  status: z.array(ZAnomalyStatus).optional(),
  severity: z.array(ZSeverity).optional(),
  label: z.array(ZAnomalyLabel).optional(),
  search: z.string().max(200).optional(),
  historical: z.boolean().optional(),
  fromMs: ZEpochMs.optional(),
  toMs: ZEpochMs.optional(),
});

export const ZIncidentListInput = ZIncidentFilter.extend({
  sort: z.enum(["start", "severity", "score"]).default("start"),
  dir: z.enum(["asc", "desc"]).default("desc"),
  limit: z.number().int().min(1).max(200).default(50),
  offset: ZCount.default(0),
});

export const incidentsRouter = createTRPCRouter({
  list: viewerProcedure.input(ZIncidentListInput).query(({ input }) => findIncidents(input)),
  openCounts: viewerProcedure.query(() => openIncidentCounts()),
  detail: viewerProcedure.input(z.object({ id: ZId })).query(({ input }) => incidentDetail(input.id)),
  setStatus: operatorProcedure
    .input(z.object({ ids: ZIds, status: ZAnomalyStatus }))
    .mutation(({ input, ctx }) => changeIncidentStatus(input.ids, input.status, ctx.actor)),
  label: operatorProcedure
    .input(z.object({ ids: ZIds, label: ZAnomalyLabel.nullable(), comment: z.string().max(2000).nullish() }))
    .mutation(({ input, ctx }) => labelIncidents(input.ids, input.label, input.comment ?? null, ctx.actor)),
  setStatusMatching: operatorProcedure
    .input(z.object({ filter: ZIncidentFilter, status: ZAnomalyStatus }))
    .mutation(({ input, ctx }) => setIncidentStatusMatching(input.filter, input.status, ctx.actor)),
  labelMatching: operatorProcedure
    .input(z.object({ filter: ZIncidentFilter, label: ZAnomalyLabel.nullable() }))
    .mutation(({ input, ctx }) => labelIncidentsMatching(input.filter, input.label, ctx.actor)),
});

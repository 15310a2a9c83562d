import { z } from "zod";
import { ZId } from "@/lib/schemas/ids";
import { ZAlertChannel, ZAlertHeaders, ZAlertRuleInput, ZAlertUrl } from "@/lib/alerts/schema";
import { changeRule, createRule, findRules, recentDeliveries, removeRule, sendTestAlert, setRuleEnabled } from "../../services/alerts/alert-service";
import { adminProcedure, viewerProcedure, createTRPCRouter } from "../trpc";

export const alertsRouter = createTRPCRouter({
  rules: viewerProcedure.query(() => findRules()),
  create: adminProcedure.input(ZAlertRuleInput).mutation(({ input }) => createRule(input)),
  update: adminProcedure.input(z.object({ id: ZId, rule: ZAlertRuleInput })).mutation(({ input }) => changeRule(input.id, input.rule)),
  setEnabled: adminProcedure.input(z.object({ id: ZId, enabled: z.boolean() })).mutation(({ input }) => setRuleEnabled(input.id, input.enabled)),
  remove: adminProcedure.input(z.object({ id: ZId })).mutation(({ input }) => removeRule(input.id)),
  sendTest: adminProcedure
    .input(z.object({ name: z.string().trim().max(100).default(""), channel: ZAlertChannel, url: ZAlertUrl, headers: ZAlertHeaders }))
    .mutation(({ input }) => sendTestAlert(input)),
  deliveries: viewerProcedure
    .input(z.object({ ruleId: ZId.optional(), limit: z.number().int().min(1).max(500).default(100) }))
    .query(({ input }) => recentDeliveries(input)),
});

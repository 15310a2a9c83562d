import { z } from "zod";
import { ZId } from "@/lib/schemas/ids";
import { ZAlertChannel, ZAlertHeaders, ZAlertRuleInput, ZAlertUrl } from "@/lib/alerts/schema";
import { changeRule, createRule, findRules, recentDeliveries, removeRule, sendTestAlert, setRuleEnabled } from "../../services/alerts/alert-service";
import { createTRPCRouter, publicProcedure } from "../trpc";

export const alertsRouter = createTRPCRouter({
  rules: publicProcedure.query(() => findRules()),
  create: publicProcedure.input(ZAlertRuleInput).mutation(({ input }) => createRule(input)),
  update: publicProcedure.input(z.object({ id: ZId, rule: ZAlertRuleInput })).mutation(({ input }) => changeRule(input.id, input.rule)),
  setEnabled: publicProcedure.input(z.object({ id: ZId, enabled: z.boolean() })).mutation(({ input }) => setRuleEnabled(input.id, input.enabled)),
  remove: publicProcedure.input(z.object({ id: ZId })).mutation(({ input }) => removeRule(input.id)),
  sendTest: publicProcedure
    .input(z.object({ name: z.string().trim().max(100).default(""), channel: ZAlertChannel, url: ZAlertUrl, headers: ZAlertHeaders }))
    .mutation(({ input }) => sendTestAlert(input)),
  deliveries: publicProcedure
    .input(z.object({ ruleId: ZId.optional(), limit: z.number().int().min(1).max(500).default(100) }))
    .query(({ input }) => recentDeliveries(input)),
});

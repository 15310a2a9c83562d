-- An incident whose resolution was announced can open again (a member anomaly re-opens, or a new
-- anomaly joins it): rules announce that as "reopened". Each resolved → reopened round is a
-- `cycle` of the (rule, incident) deliveries, so a second round does not collide with the first.
ALTER TYPE "AlertEventKind" ADD VALUE IF NOT EXISTS 'reopened';

ALTER TABLE "alert_delivery" ADD COLUMN "cycle" INTEGER NOT NULL DEFAULT 0;

DROP INDEX "alert_delivery_rule_id_incident_id_event_key";
CREATE UNIQUE INDEX "alert_delivery_rule_id_incident_id_event_cycle_key" ON "alert_delivery"("rule_id", "incident_id", "event", "cycle");

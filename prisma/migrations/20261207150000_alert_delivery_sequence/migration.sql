-- Each delivery's number in its (rule, incident) series, assigned when it is queued. A re-queued
-- escalation (medium → high after low → medium) takes the next number; the number used to be the
-- row's rank by id, so a second escalation repeated the first one's.
ALTER TABLE "alert_delivery" ADD COLUMN "sequence" INTEGER NOT NULL DEFAULT 0;

UPDATE "alert_delivery" d SET "sequence" = r.n
FROM (SELECT id, (row_number() OVER (PARTITION BY rule_id, incident_id ORDER BY id))::int AS n FROM "alert_delivery") r
WHERE r.id = d.id;

CREATE INDEX "alert_delivery_rule_id_incident_id_sequence_idx" ON "alert_delivery"("rule_id", "incident_id", "sequence");

-- Incidents: anomalies grouped into one object with one status (docs/incidents.md). Alert
-- deliveries move from one per anomaly event to one per incident event.

-- CreateTable
CREATE TABLE "incident" (
    "id" SERIAL NOT NULL,
    "source_id" INTEGER NOT NULL,
    "group" TEXT,
    "stream_ids" INTEGER[],
    "start_at" TIMESTAMPTZ(3) NOT NULL,
    "end_at" TIMESTAMPTZ(3),
    "severity" "Severity" NOT NULL,
    "peak_score" DOUBLE PRECISION NOT NULL,
    "type" "AnomalyType" NOT NULL,
    "type_frozen" BOOLEAN NOT NULL DEFAULT false,
    "status" "AnomalyStatus" NOT NULL DEFAULT 'open',
    "resolved_by" TEXT,
    "resolved_at" TIMESTAMPTZ(3),
    "label" "AnomalyLabel",
    "anomaly_count" INTEGER NOT NULL DEFAULT 0,
    "historical" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "incident_pkey" PRIMARY KEY ("id")
);

-- AlterTable
ALTER TABLE "anomaly" ADD COLUMN "incident_id" INTEGER;

-- Existing anomalies: one incident each (their history is kept as it was triaged).
UPDATE "anomaly" SET "incident_id" = nextval('incident_id_seq');
INSERT INTO "incident" ("id", "source_id", "group", "stream_ids", "start_at", "end_at", "severity", "peak_score", "type",
                        "type_frozen", "status", "resolved_by", "resolved_at", "label", "anomaly_count", "historical", "created_at", "updated_at")
SELECT a."incident_id", s."source_id", s."group", ARRAY(SELECT DISTINCT x FROM unnest(array_append(a."stream_ids", a."stream_id")) x),
       a."start_at", a."end_at", a."severity", a."peak_score", a."type",
       EXISTS (SELECT 1 FROM "alert_delivery" d WHERE d."anomaly_id" = a."id"),
       CASE WHEN a."end_at" IS NOT NULL THEN 'resolved'::"AnomalyStatus" ELSE a."status" END,
       CASE WHEN a."status" = 'resolved' THEN 'migration' WHEN a."end_at" IS NOT NULL THEN 'auto' END,
       CASE WHEN a."status" = 'resolved' OR a."end_at" IS NOT NULL THEN a."updated_at" END,
       a."label", 1, (a."created_at" - COALESCE(a."end_at", a."start_at") > interval '3600 seconds'), a."created_at", a."updated_at"
FROM "anomaly" a JOIN "stream" s ON s."id" = a."stream_id";
UPDATE "anomaly" SET "status" = 'resolved' WHERE "end_at" IS NOT NULL AND "status" <> 'resolved';

-- DropIndex
DROP INDEX "alert_delivery_rule_id_anomaly_id_event_key";

-- AlterTable
ALTER TABLE "alert_delivery" ADD COLUMN "incident_id" INTEGER, ADD COLUMN "type" "AnomalyType";
UPDATE "alert_delivery" d SET "incident_id" = a."incident_id", "type" = a."type" FROM "anomaly" a WHERE a."id" = d."anomaly_id";
ALTER TABLE "alert_delivery" ALTER COLUMN "incident_id" SET NOT NULL, ALTER COLUMN "type" SET NOT NULL;

-- CreateIndex
CREATE INDEX "incident_status_severity_start_at_idx" ON "incident"("status", "severity", "start_at" DESC);

-- CreateIndex
CREATE INDEX "incident_source_id_start_at_idx" ON "incident"("source_id", "start_at");

-- CreateIndex
CREATE INDEX "incident_updated_at_idx" ON "incident"("updated_at");

-- CreateIndex
CREATE INDEX "alert_delivery_incident_id_idx" ON "alert_delivery"("incident_id");

-- CreateIndex
CREATE UNIQUE INDEX "alert_delivery_rule_id_incident_id_event_key" ON "alert_delivery"("rule_id", "incident_id", "event");

-- CreateIndex
CREATE INDEX "anomaly_incident_id_idx" ON "anomaly"("incident_id");

-- AddForeignKey
ALTER TABLE "anomaly" ADD CONSTRAINT "anomaly_incident_id_fkey" FOREIGN KEY ("incident_id") REFERENCES "incident"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "incident" ADD CONSTRAINT "incident_source_id_fkey" FOREIGN KEY ("source_id") REFERENCES "source"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alert_delivery" ADD CONSTRAINT "alert_delivery_incident_id_fkey" FOREIGN KEY ("incident_id") REFERENCES "incident"("id") ON DELETE CASCADE ON UPDATE CASCADE;

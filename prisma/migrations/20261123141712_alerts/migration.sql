-- CreateEnum
CREATE TYPE "AlertChannel" AS ENUM ('webhook', 'slack', 'alertmanager');

-- CreateEnum
CREATE TYPE "AlertEventKind" AS ENUM ('opened', 'escalated', 'resolved');

-- CreateEnum
CREATE TYPE "AlertDeliveryStatus" AS ENUM ('pending', 'sent', 'failed', 'suppressed');

-- CreateTable
CREATE TABLE "alert_rule" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "min_severity" "Severity" NOT NULL DEFAULT 'medium',
    "metric" TEXT,
    "source_name" TEXT,
    "group" TEXT,
    "types" "AnomalyType"[] DEFAULT ARRAY[]::"AnomalyType"[],
    "channel" "AlertChannel" NOT NULL DEFAULT 'webhook',
    "url" TEXT NOT NULL,
    "headers" JSONB NOT NULL DEFAULT '{}',
    "cooldown_sec" INTEGER NOT NULL DEFAULT 300,
    "notify_resolve" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "alert_rule_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "alert_delivery" (
    "id" SERIAL NOT NULL,
    "rule_id" INTEGER NOT NULL,
    "anomaly_id" TEXT NOT NULL,
    "stream_id" INTEGER NOT NULL,
    "event" "AlertEventKind" NOT NULL,
    "severity" "Severity" NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "status" "AlertDeliveryStatus" NOT NULL DEFAULT 'pending',
    "http_status" INTEGER,
    "error" TEXT,
    "next_attempt_at" TIMESTAMPTZ(3) DEFAULT CURRENT_TIMESTAMP,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sent_at" TIMESTAMPTZ(3),

    CONSTRAINT "alert_delivery_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "alert_rule_name_key" ON "alert_rule"("name");

-- CreateIndex
CREATE INDEX "alert_delivery_status_next_attempt_at_idx" ON "alert_delivery"("status", "next_attempt_at");

-- CreateIndex
CREATE INDEX "alert_delivery_rule_id_stream_id_created_at_idx" ON "alert_delivery"("rule_id", "stream_id", "created_at" DESC);

-- CreateIndex
CREATE INDEX "alert_delivery_anomaly_id_idx" ON "alert_delivery"("anomaly_id");

-- CreateIndex
CREATE UNIQUE INDEX "alert_delivery_rule_id_anomaly_id_event_key" ON "alert_delivery"("rule_id", "anomaly_id", "event");

-- AddForeignKey
ALTER TABLE "alert_delivery" ADD CONSTRAINT "alert_delivery_rule_id_fkey" FOREIGN KEY ("rule_id") REFERENCES "alert_rule"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alert_delivery" ADD CONSTRAINT "alert_delivery_anomaly_id_fkey" FOREIGN KEY ("anomaly_id") REFERENCES "anomaly"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- CreateEnum
CREATE TYPE "SourceKind" AS ENUM ('host', 'remote_write', 'prometheus_pull', 'otlp', 'csv', 'self');

-- CreateEnum
CREATE TYPE "StreamKind" AS ENUM ('gauge', 'counter', 'event');

-- CreateEnum
CREATE TYPE "Severity" AS ENUM ('low', 'medium', 'high');

-- CreateEnum
CREATE TYPE "AnomalyType" AS ENUM ('point', 'contextual', 'collective', 'trend', 'seasonal', 'gap');

-- CreateEnum
CREATE TYPE "AnomalyStatus" AS ENUM ('open', 'acknowledged', 'resolved');

-- CreateEnum
CREATE TYPE "AnomalyLabel" AS ENUM ('true_anomaly', 'false_positive', 'expected');

-- CreateEnum
CREATE TYPE "ConfigScope" AS ENUM ('global', 'source', 'group', 'stream');

-- CreateTable
CREATE TABLE "source" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "kind" "SourceKind" NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "config" JSONB NOT NULL DEFAULT '{}',
    "cardinality_limit" INTEGER NOT NULL DEFAULT 10000,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "source_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "stream" (
    "id" SERIAL NOT NULL,
    "source_id" INTEGER NOT NULL,
    "metric" TEXT NOT NULL,
    "labels" JSONB NOT NULL DEFAULT '{}',
    "key" TEXT NOT NULL,
    "kind" "StreamKind" NOT NULL DEFAULT 'gauge',
    "group" TEXT,
    "unit" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_sample_at" TIMESTAMPTZ(3),
    "last_value" DOUBLE PRECISION,
    "last_score" DOUBLE PRECISION,

    CONSTRAINT "stream_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sample" (
    "stream_id" INTEGER NOT NULL,
    "ts" TIMESTAMPTZ(3) NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,
    "seq" BIGSERIAL NOT NULL,

    CONSTRAINT "sample_pkey" PRIMARY KEY ("stream_id","ts")
);

-- CreateTable
CREATE TABLE "sample_rollup_1m" (
    "stream_id" INTEGER NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "min" DOUBLE PRECISION NOT NULL,
    "max" DOUBLE PRECISION NOT NULL,
    "sum" DOUBLE PRECISION NOT NULL,
    "count" INTEGER NOT NULL,

    CONSTRAINT "sample_rollup_1m_pkey" PRIMARY KEY ("stream_id","bucket")
);

-- CreateTable
CREATE TABLE "score" (
    "stream_id" INTEGER NOT NULL,
    "ts" TIMESTAMPTZ(3) NOT NULL,
    "score" DOUBLE PRECISION NOT NULL,
    "confidence" DOUBLE PRECISION NOT NULL,
    "expected" DOUBLE PRECISION,
    "lower" DOUBLE PRECISION,
    "upper" DOUBLE PRECISION,

    CONSTRAINT "score_pkey" PRIMARY KEY ("stream_id","ts")
);

-- CreateTable
CREATE TABLE "anomaly" (
    "id" TEXT NOT NULL,
    "engine_id" TEXT NOT NULL,
    "stream_id" INTEGER NOT NULL,
    "stream_ids" INTEGER[],
    "start_at" TIMESTAMPTZ(3) NOT NULL,
    "end_at" TIMESTAMPTZ(3),
    "peak_score" DOUBLE PRECISION NOT NULL,
    "severity" "Severity" NOT NULL,
    "type" "AnomalyType" NOT NULL,
    "status" "AnomalyStatus" NOT NULL DEFAULT 'open',
    "label" "AnomalyLabel",
    "explanation" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "anomaly_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "feedback" (
    "id" SERIAL NOT NULL,
    "anomaly_id" TEXT NOT NULL,
    "label" "AnomalyLabel",
    "comment" TEXT,
    "author" TEXT NOT NULL DEFAULT 'anonymous',
    "applied_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "feedback_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "detector_config" (
    "id" SERIAL NOT NULL,
    "scope" "ConfigScope" NOT NULL,
    "scope_ref" TEXT NOT NULL DEFAULT '',
    "settings" JSONB NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "managed_by" TEXT NOT NULL DEFAULT 'ui',
    "updated_by" TEXT NOT NULL DEFAULT 'anonymous',
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "detector_config_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "detector_config_version" (
    "id" SERIAL NOT NULL,
    "scope" "ConfigScope" NOT NULL,
    "scope_ref" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "settings" JSONB NOT NULL,
    "author" TEXT NOT NULL,
    "note" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "detector_config_version_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "detector_snapshot" (
    "id" SERIAL NOT NULL,
    "reason" TEXT NOT NULL DEFAULT 'periodic',
    "cursor" BIGINT NOT NULL,
    "size_bytes" INTEGER NOT NULL,
    "state" BYTEA NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "detector_snapshot_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "stream_health" (
    "stream_id" INTEGER NOT NULL,
    "health" DOUBLE PRECISION NOT NULL,
    "availability" DOUBLE PRECISION NOT NULL,
    "gap_class" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "stream_health_pkey" PRIMARY KEY ("stream_id")
);

-- CreateTable
CREATE TABLE "worker_status" (
    "name" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "heartbeat_at" TIMESTAMPTZ(3) NOT NULL,
    "cursor" BIGINT NOT NULL DEFAULT 0,
    "info" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "worker_status_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "setting" (
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "setting_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE UNIQUE INDEX "source_name_key" ON "source"("name");

-- CreateIndex
CREATE INDEX "stream_group_idx" ON "stream"("group");

-- CreateIndex
CREATE UNIQUE INDEX "stream_source_id_key_key" ON "stream"("source_id", "key");

-- CreateIndex
CREATE INDEX "sample_seq_idx" ON "sample" USING BRIN ("seq");

-- CreateIndex
CREATE UNIQUE INDEX "anomaly_engine_id_key" ON "anomaly"("engine_id");

-- CreateIndex
CREATE INDEX "anomaly_status_severity_start_at_idx" ON "anomaly"("status", "severity", "start_at" DESC);

-- CreateIndex
CREATE INDEX "anomaly_stream_id_start_at_idx" ON "anomaly"("stream_id", "start_at" DESC);

-- CreateIndex
CREATE INDEX "feedback_anomaly_id_idx" ON "feedback"("anomaly_id");

-- CreateIndex
CREATE INDEX "feedback_applied_at_idx" ON "feedback"("applied_at");

-- CreateIndex
CREATE UNIQUE INDEX "detector_config_scope_scope_ref_key" ON "detector_config"("scope", "scope_ref");

-- CreateIndex
CREATE INDEX "detector_config_version_scope_scope_ref_version_idx" ON "detector_config_version"("scope", "scope_ref", "version");

-- CreateIndex
CREATE INDEX "detector_snapshot_created_at_idx" ON "detector_snapshot"("created_at" DESC);

-- AddForeignKey
ALTER TABLE "stream" ADD CONSTRAINT "stream_source_id_fkey" FOREIGN KEY ("source_id") REFERENCES "source"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "anomaly" ADD CONSTRAINT "anomaly_stream_id_fkey" FOREIGN KEY ("stream_id") REFERENCES "stream"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "feedback" ADD CONSTRAINT "feedback_anomaly_id_fkey" FOREIGN KEY ("anomaly_id") REFERENCES "anomaly"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "stream_health" ADD CONSTRAINT "stream_health_stream_id_fkey" FOREIGN KEY ("stream_id") REFERENCES "stream"("id") ON DELETE CASCADE ON UPDATE CASCADE;

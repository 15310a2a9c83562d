-- CreateTable
CREATE TABLE "prediction" (
    "stream_id" INTEGER NOT NULL,
    "computed_at" TIMESTAMPTZ(3) NOT NULL,
    "horizon_ms" INTEGER NOT NULL,
    "probability" DOUBLE PRECISION NOT NULL,
    "eta_at" TIMESTAMPTZ(3),
    "direction" TEXT,
    "envelope_low" DOUBLE PRECISION,
    "envelope_high" DOUBLE PRECISION,
    "forecast" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "prediction_pkey" PRIMARY KEY ("stream_id")
);

-- CreateIndex
CREATE INDEX "prediction_probability_idx" ON "prediction"("probability" DESC);

-- AddForeignKey
ALTER TABLE "prediction" ADD CONSTRAINT "prediction_stream_id_fkey" FOREIGN KEY ("stream_id") REFERENCES "stream"("id") ON DELETE CASCADE ON UPDATE CASCADE;

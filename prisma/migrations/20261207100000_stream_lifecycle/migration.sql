-- Archive streams and sources (hidden from the overview, not alerted on, history kept); the
-- data time at which the worker taught a label (the backtest teaches it at the same point);
-- ground-truth ranges per stream (a CSV import's is_anomaly/label column).
ALTER TABLE "source" ADD COLUMN "archived_at" TIMESTAMPTZ(3);
ALTER TABLE "stream" ADD COLUMN "archived_at" TIMESTAMPTZ(3);
ALTER TABLE "feedback" ADD COLUMN "applied_data_at" TIMESTAMPTZ(3);

CREATE TABLE "stream_label" (
    "id" SERIAL NOT NULL,
    "stream_id" INTEGER NOT NULL,
    "start_at" TIMESTAMPTZ(3) NOT NULL,
    "end_at" TIMESTAMPTZ(3) NOT NULL,
    "origin" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "stream_label_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "stream_label_stream_id_origin_start_at_key" ON "stream_label"("stream_id", "origin", "start_at");
ALTER TABLE "stream_label" ADD CONSTRAINT "stream_label_stream_id_fkey" FOREIGN KEY ("stream_id") REFERENCES "stream"("id") ON DELETE CASCADE ON UPDATE CASCADE;

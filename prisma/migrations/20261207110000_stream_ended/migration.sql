-- A stream whose series disappeared: Prometheus sent a staleness marker at this time (issue 14).
-- It counts as ended while no sample is newer; the worker clears it when a newer sample arrives.
ALTER TABLE "stream" ADD COLUMN "ended_at" TIMESTAMPTZ(3);
-- the worker reads the ended streams every few seconds
CREATE INDEX "stream_ended_at_idx" ON "stream"("ended_at");

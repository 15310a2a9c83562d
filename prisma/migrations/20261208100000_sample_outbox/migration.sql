-- Scale-out outbox: each ingest commit in NATS mode records, in its own transaction, the range
-- of block rows it wrote; a row is deleted once JetStream holds every message of that commit.
-- A row left behind (its process died before publishing) is re-published by another process.
CREATE TABLE "sample_outbox" (
    "first_seq" BIGINT NOT NULL,
    "last_seq" BIGINT NOT NULL,
    "owner" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sample_outbox_pkey" PRIMARY KEY ("first_seq")
);

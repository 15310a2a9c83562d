-- Scale-out on NATS JetStream (docs/scale-out.md): per partition of the sample log, the
-- scoring cursor (updated in the transaction that stores the scores) and the newest detector
-- snapshot, so that a partition moves between workers without losing or re-scoring a sample.
CREATE TABLE "partition_cursor" (
    "log" TEXT NOT NULL,
    "partition" INTEGER NOT NULL,
    "msg_seq" BIGINT NOT NULL,
    "scored" BIGINT NOT NULL DEFAULT 0,
    "owner" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "partition_cursor_pkey" PRIMARY KEY ("log", "partition")
);

CREATE TABLE "partition_snapshot" (
    "log" TEXT NOT NULL,
    "partition" INTEGER NOT NULL,
    "msg_seq" BIGINT NOT NULL,
    "state" BYTEA NOT NULL,
    "size_bytes" INTEGER NOT NULL,
    "taken_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "partition_snapshot_pkey" PRIMARY KEY ("log", "partition")
);

-- Why an anomaly joined an incident of another source or group: the dependency-graph edge
-- between its stream and a member's ({kind, streamId, linkedStreamId, leaderId, lagSec,
-- correlation}); null when it joined by source and group or a shared stream.
ALTER TABLE "anomaly" ADD COLUMN "incident_link" JSONB;

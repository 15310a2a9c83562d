import { z } from "zod";

/** Why an anomaly joined an incident of another source or group: its stream is linked to a member's in the dependency graph. */
export const ZIncidentLink = z.object({
  kind: z.literal("dependency"),
  /** the anomaly's stream, and the member stream it is linked to */
  streamId: z.number().int(),
  linkedStreamId: z.number().int(),
  /** the one of the two that moved first */
  leaderId: z.number().int(),
  lagSec: z.number(),
  correlation: z.number(),
});
export type TIncidentLink = z.infer<typeof ZIncidentLink>;

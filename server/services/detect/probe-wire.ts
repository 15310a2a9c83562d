import { z } from "zod";
import { ZAnomalyType, ZSeverity } from "@/lib/schemas/stream";

/**
 * The worker's side-effect-free scoring call on its loopback hand-off endpoint: the web process
 * sends current values, the worker scores them on copies of the live models
 * (`EnginePort.probe`) and answers at once, between its own detection steps.
 */
export const PROBE_PATH = "/probe";
export const MAX_PROBE_STREAMS = 1000;

export const ZProbeRequest = z.object({
  tsMs: z.number().finite(),
  ids: z.array(z.number().int().nonnegative()).max(MAX_PROBE_STREAMS),
  values: z.array(z.number().finite().nullable()).max(MAX_PROBE_STREAMS),
});
export type TProbeRequest = z.infer<typeof ZProbeRequest>;

export const ZProbeResult = z.object({
  streamId: z.number().int(),
  tsMs: z.number(),
  score: z.number(),
  confidence: z.number(),
  isAnomaly: z.boolean(),
  severity: ZSeverity.nullable(),
  type: ZAnomalyType.nullable(),
  expected: z.number().nullable(),
  lower: z.number().nullable(),
  upper: z.number().nullable(),
  sigma: z.number().nullable(),
  rate: z.number().nullable(),
});
export const ZProbeResponse = z.object({ results: z.array(ZProbeResult) });
export type TProbeResult = z.infer<typeof ZProbeResult>;

import { rollupPending, rollupWatermark } from "../../repos/samples-repo";
import { RollupBuffer } from "./rollup-buffer";

/**
 * The rollup buffer for a pipeline starting at `cursor` (a worker start or restart). Each
 * sample is folded once: samples at or below the stored watermark (already folded, but read
 * again when the snapshot's cursor is older) are skipped, and samples between the watermark and
 * the cursor (which the pipeline will not read again) are folded by SQL first.
 */
export async function resumeRollup(cursor: number): Promise<RollupBuffer> {
  let watermark = await rollupWatermark();
  if (watermark < cursor) {
    while ((await rollupPending(200_000, cursor)) > 0) {
      /* catch up in batches */
    }
    watermark = cursor;
  }
  return new RollupBuffer(Math.max(watermark, cursor));
}

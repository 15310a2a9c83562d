import { rebuildRollupAfterWatermark } from "../../repos/storage/rollup";
import { RollupBuffer } from "./rollup-buffer";

/**
 * The rollup buffer for a pipeline starting at `cursor` (a worker start or restart). Each
 * sample is folded once: the stored rollup is first made to hold exactly the samples with seq ≤
 * `cursor` (minutes touched after the stored watermark are rebuilt from their samples, see
 * `rebuildRollupAfterWatermark`), and the buffer folds what the pipeline reads after it.
 */
export async function resumeRollup(cursor: number): Promise<RollupBuffer> {
  const { watermark } = await rebuildRollupAfterWatermark(cursor);
  return new RollupBuffer(watermark);
}

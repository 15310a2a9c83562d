import { AppError } from "@/lib/errors/app-error";
import { requeueGivenUp } from "../../repos/alerts-repo";

/** "Retry" on a delivery that gave up: the dispatcher sends it on its next round (in order with the anomaly's other states). */
export async function retryGivenUpDelivery(id: number, nowMs = Date.now()) {
  if (!(await requeueGivenUp(id, nowMs))) throw new AppError("CONFLICT", `Delivery #${id} is not a failed delivery that gave up; nothing to retry.`);
  return { queued: true };
}

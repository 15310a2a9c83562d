import { z } from "zod";
import { processGlobal } from "../../process-global";

/**
 * Web → worker commands, on one channel: the worker's loopback hand-off endpoint
 * (server/worker/handoff.ts) by default, a NATS subject in scale-out mode (server/nats/commands.ts).
 * A command only says "look now": what to do is in the database (the pending Settings → Models
 * request, the feedback table, the saved configuration), which stays the durable record, so a
 * command sent while no worker runs is still carried out when one starts (and the workers'
 * slow poll catches anything a lost command missed).
 */
export const ZWorkerCommand = z.object({
  kind: z.enum([
    /** a Settings → Models request (snapshot, rollback) is pending */
    "request",
    /** new feedback labels */
    "feedback",
    /** saved detector configuration changed */
    "config",
    /** scale-out only, from the leader to every worker: snapshot every partition now (a manual snapshot) */
    "snapshot-partitions",
    /** scale-out only, from the leader to every worker: a rollback is recorded; restore the partitions you own */
    "rollback-partitions",
  ]),
});
export type TWorkerCommand = z.infer<typeof ZWorkerCommand>;

export type CommandSink = (cmd: TWorkerCommand) => Promise<void> | void;

// once per process (the web process loads this module twice: Next's copy and the custom server's)
const state = processGlobal("worker-commands", () => ({ sink: null as CommandSink | null }));

/** Where this process's commands go (null: nowhere; the worker's poll picks the change up); set by main.ts. */
export function setCommandSink(sink: CommandSink | null): void {
  state.sink = sink;
}

/** How long a request waits for the channel (NATS reconnecting, a worker stuck) before going on without it. */
const SEND_TIMEOUT_MS = 2_000;

/** Tells the worker(s) to look now. Best effort: the change is stored already, a lost command only delays it. */
export async function notifyWorkers(cmd: TWorkerCommand): Promise<void> {
  const sink = state.sink;
  if (!sink) return;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([sink(cmd), new Promise<void>((resolve) => (timer = setTimeout(resolve, SEND_TIMEOUT_MS)))]);
  } catch {
    /* the worker's poll applies it */
  } finally {
    clearTimeout(timer);
  }
}

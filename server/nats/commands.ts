import { ZWorkerCommand, type TWorkerCommand } from "../services/commands/worker-commands";
import type { SampleLog } from "./sample-log";

/**
 * Web → worker commands in scale-out mode: plain NATS messages on `<prefix>.commands`, which
 * every worker receives (each acts on the partitions it owns; the leader on the global part).
 * At most once by design: the database holds what a command points at, and the workers' slow
 * poll picks up anything a lost command missed (see worker-commands.ts).
 */
export function publishCommand(log: SampleLog, cmd: TWorkerCommand): Promise<void> {
  log.nc.publish(log.names.commands, JSON.stringify(cmd));
  // flushed, so that a command sent just before the process exits still leaves it
  return log.nc.flush();
}

/** Calls `handle` for each well-formed command; returns a function that stops listening. */
export function subscribeCommands(log: SampleLog, handle: (cmd: TWorkerCommand) => void, note: (msg: string) => void = () => undefined): () => void {
  const sub = log.nc.subscribe(log.names.commands, {
    callback: (err, msg) => {
      if (err) return note(`command subscription: ${err.message}`);
      let parsed;
      try {
        parsed = ZWorkerCommand.safeParse(JSON.parse(msg.string()));
      } catch {
        parsed = null;
      }
      if (parsed?.success) handle(parsed.data);
      else note(`ignored a malformed command: ${msg.string().slice(0, 200)}`);
    },
  });
  return () => sub.unsubscribe();
}

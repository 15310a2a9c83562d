import type { CommittedBatch } from "../repos/storage/columns";
import type { TWorkerCommand } from "../services/commands/worker-commands";
import type { LogBacklog } from "../services/ingest/ingest-service";
import { publishCommand } from "./commands";
import { readLogBacklog } from "./log-backlog";
import { openSampleLog, type SampleLogConfig } from "./sample-log";
import { natsCommitSink } from "./commit-publisher";

/** The web process's side of scale-out: its commit sink (see natsCommitSink) and its command channel to the workers. */
export async function openNatsSink(
  config: SampleLogConfig,
): Promise<{ sink: (b: CommittedBatch) => Promise<void>; outbox: string; command(cmd: TWorkerCommand): Promise<void>; backlog(): Promise<LogBacklog>; close(): Promise<void> }> {
  const log = await openSampleLog(config, `omen-web ${process.pid}`);
  const s = natsCommitSink(log);
  return {
    sink: s.sink,
    outbox: s.outbox,
    command: (cmd) => publishCommand(log, cmd),
    backlog: () => readLogBacklog(log),
    close: async () => {
      s.close();
      await log.close();
    },
  };
}

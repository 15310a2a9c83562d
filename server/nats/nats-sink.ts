import type { CommittedBatch } from "@/lib/ingest/committed-batch";
import { natsCommitSink, openSampleLog, type SampleLogConfig } from "./sample-log";

/** The web process's commit sink in scale-out mode (see natsCommitSink). */
export async function openNatsSink(config: SampleLogConfig): Promise<{ sink: (b: CommittedBatch) => Promise<void>; close(): Promise<void> }> {
  const log = await openSampleLog(config, `omen-web ${process.pid}`);
  const s = natsCommitSink(log);
  return {
    sink: s.sink,
    close: async () => {
      s.close();
      await log.close();
    },
  };
}

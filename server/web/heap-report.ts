import { z } from "zod";
import { exposeGc } from "./idle-gc";

/** The line prefix a report is printed with; `parseHeapReports` reads them back. */
const PREFIX = "[web] heap after full gc ";

const ZHeapReport = z.object({
  /** 1, 2, … in the order the signals arrived */
  n: z.number().int(),
  /** V8 heap still in use after the collection: what the process holds on to */
  heapUsed: z.number(),
  /** memory of Buffers and ArrayBuffers still referenced (request bodies live here) */
  external: z.number(),
  rss: z.number(),
});
export type THeapReport = z.infer<typeof ZHeapReport>;

/**
 * A leak measure that does not depend on when V8 hands memory back to the system: on SIGUSR2,
 * a full collection (twice, so that what the first one's finalizers released goes too), then
 * `process.memoryUsage()` printed as one line. Resident size after a burst varies by tens of
 * percent with V8's page bookkeeping (issue 14); the live heap after a full GC does not.
 * Installed only when OMEN_HEAP_REPORT_ON_SIGNAL is set: a signal comes from the machine's
 * own users, never over HTTP.
 */
export function installHeapReport(): () => void {
  const gc = exposeGc();
  let n = 0;
  const onSignal = () => {
    gc();
    gc();
    const m = process.memoryUsage();
    const report: THeapReport = { n: ++n, heapUsed: m.heapUsed, external: m.external, rss: m.rss };
    console.log(`${PREFIX}${JSON.stringify(report)}`);
  };
  process.on("SIGUSR2", onSignal);
  return () => process.off("SIGUSR2", onSignal);
}

/** The reports printed in a process's output, in order. */
export function parseHeapReports(output: string): THeapReport[] {
  const out: THeapReport[] = [];
  for (const line of output.split("\n")) {
    const at = line.indexOf(PREFIX);
    if (at >= 0) out.push(ZHeapReport.parse(JSON.parse(line.slice(at + PREFIX.length))));
  }
  return out;
}

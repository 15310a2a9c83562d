import type http from "node:http";
import v8 from "node:v8";
import vm from "node:vm";

/** Quiet time (no request started) after which the heap is compacted. */
const IDLE_MS = 10_000;
/** Heap that may be committed beyond the live heap of the last compaction before one is worth it. */
const SLACK_BYTES = 32 * 1024 * 1024;

export type Gc = () => void;

/** V8's `gc` function (the --expose-gc one, enabled at run time for a fresh context). */
export function exposeGc(): Gc {
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as Gc;
}

/**
 * Gives the heap of a burst back to the system once the web process is quiet. Requests that
 * outlive two scavenges (slow ingest under load, fuzzing) promote their garbage to the old
 * generation; V8 collects it at its next major GC but keeps the pages committed, and its own
 * idle memory reducer did not run in this process (measured, issue 14: after 10,000 requests the
 * resident size stayed +57 % for a minute of idling with ~126 MB live). So: after 10 s without a
 * request, if the committed heap exceeds the last compaction's live heap by 32 MB, one major GC
 * — at most once per quiet spell. Under steady load the
 * process is never quiet that long and V8 manages its heap as usual.
 */
export function startIdleGc(server: http.Server, opts: { idleMs?: number; slackBytes?: number } = {}): () => void {
  const idleMs = opts.idleMs ?? IDLE_MS;
  const slack = opts.slackBytes ?? SLACK_BYTES;
  const gc = exposeGc();
  let lastRequestMs = Date.now();
  let liveAfterGc = v8.getHeapStatistics().used_heap_size;
  let collectedSinceRequest = false;
  const onRequest = () => {
    lastRequestMs = Date.now();
    collectedSinceRequest = false;
  };
  server.on("request", onRequest);
  const timer = setInterval(
    () => {
      if (collectedSinceRequest || Date.now() - lastRequestMs < idleMs) return;
      collectedSinceRequest = true;
      if (v8.getHeapStatistics().total_heap_size < liveAfterGc + slack) return;
      // a full, synchronous GC (~0.1–0.3 s for this heap): nothing is waiting. (Node 20's
      // `gc({ type: "major" })` collected almost nothing here; the plain call compacts.)
      gc();
      liveAfterGc = v8.getHeapStatistics().used_heap_size;
    },
    Math.max(1_000, idleMs / 5),
  );
  timer.unref();
  return () => {
    clearInterval(timer);
    server.off("request", onRequest);
  };
}

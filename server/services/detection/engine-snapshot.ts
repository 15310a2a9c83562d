/**
 * A detector snapshot as stored (the `state` of a snapshot row): the engine's state in the
 * binary container (state-container.ts), gzipped. The event loop does only the copy of each
 * column into the container (`serialize()`, or in slices with `packEngine`); gzip and gunzip
 * run on libuv's thread pool.
 */
import { promisify } from "node:util";
import zlib from "node:zlib";
import type { EnginePort } from "@/lib/detectors/engine-port";
import { restoreEngine } from "./engine-adapter";

const gunzip = promisify(zlib.gunzip);

/** Bytes joined between two yields when the compressed chunks are put together. */
const JOIN_SLICE = 8 << 20;

/**
 * The stored form of `engine.serialize()` output. `zlib.gzip` would join its output chunks in
 * one copy on the event loop at the end (a few hundred ms for a partition of 62,500 streams);
 * here they are joined in slices with the event loop free between them.
 */
export async function compressState(state: Uint8Array): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  const z = zlib.createGzip({ chunkSize: 1 << 20 });
  z.on("data", (c: Buffer) => {
    chunks.push(c);
    total += c.length;
  });
  const done = new Promise<void>((resolve, reject) => {
    z.on("end", resolve);
    z.on("error", reject);
  });
  z.end(state);
  await done;
  const out = Buffer.allocUnsafeSlow(total);
  let o = 0;
  let since = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
    since += c.length;
    if (since >= JOIN_SLICE) {
      since = 0;
      await new Promise((r) => setImmediate(r));
    }
  }
  return out;
}

/**
 * The engine's state in the container, copied in slices with the event loop free between them
 * when the engine can (`serializeSliced`): the caller keeps the engine unchanged until it
 * resolves (PartitionRunner holds its steps meanwhile).
 */
export function packEngine(engine: Pick<EnginePort, "serialize" | "serializeSliced">): Promise<Uint8Array> {
  return engine.serializeSliced ? engine.serializeSliced() : Promise.resolve(engine.serialize());
}

/** The engine a stored snapshot holds (any snapshot format, see `readSnapshotState`). */
export async function restoreSnapshot(stored: Uint8Array): Promise<EnginePort> {
  return restoreEngine(await gunzip(stored));
}

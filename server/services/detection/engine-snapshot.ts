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

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);

/** The stored form of `engine.serialize()` output, taken before anything awaited. */
export function compressState(state: Uint8Array): Promise<Buffer> {
  return gzip(state);
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

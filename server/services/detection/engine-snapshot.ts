/**
 * A detector snapshot as stored (the `state` of a snapshot row): the engine's state in the
 * binary container (state-container.ts), gzipped. Saving holds the event loop only for
 * `serialize()`, one copy of each column into the container (the copy is what makes the
 * snapshot consistent: the engine may step again as soon as it returns); gzip and gunzip run on
 * libuv's thread pool.
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

/** The engine's snapshot, as stored. */
export function snapshotEngine(engine: Pick<EnginePort, "serialize">): Promise<Buffer> {
  return compressState(engine.serialize());
}

/** The engine a stored snapshot holds (any snapshot format, see `readSnapshotState`). */
export async function restoreSnapshot(stored: Uint8Array): Promise<EnginePort> {
  return restoreEngine(await gunzip(stored));
}

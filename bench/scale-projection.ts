/**
 * `npx tsx bench/scale-projection.ts [--streams 5000] [--steps 60]`: what one partition of the
 * scale-out group costs, measured on this machine, and a projection to 1,000,000 active
 * series: detector state bytes per stream (heap and serialized), snapshot size and time per
 * partition, scoring rate per core, and how many workers a million series need.
 */
import { promisify } from "node:util";
import zlib from "node:zlib";
import { createEngine } from "../server/services/detection/engine-adapter";

const gzip = promisify(zlib.gzip);
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const STREAMS = arg("streams", 5000);
const STEPS = arg("steps", 60);
const STEP_MS = 10_000;
const TARGET = 1_000_000;
const PARTITIONS = arg("partitions", 16);
const WORKER_MEMORY = 4 * 1024 ** 3; // a worker budget of 4 GiB of heap

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

async function main(): Promise<void> {
  gc();
  // typed arrays (most of the detector state) live outside the JS heap: count both
  const used = () => process.memoryUsage().heapUsed + process.memoryUsage().external;
  const heap0 = used();
  const engine = createEngine();
  const ids = Array.from({ length: STREAMS }, (_, i) => i + 1);
  for (const id of ids) engine.addStream(id, "gauge", 0);
  const t0 = Date.UTC(2026, 0, 1);
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const values = new Float64Array(STREAMS);
  const ts = new Float64Array(STREAMS);
  let scoreMs = 0;
  for (let k = 0; k < STEPS; k++) {
    for (let i = 0; i < STREAMS; i++) {
      values[i] = Math.sin((k + i) / 9) * 10 + i + rnd();
      ts[i] = t0 + k * STEP_MS;
    }
    const a = performance.now();
    engine.step(t0 + k * STEP_MS, ids, values, ts, 0);
    scoreMs += performance.now() - a;
  }
  gc();
  const heapPerStream = (used() - heap0) / STREAMS;
  const s0 = performance.now();
  const raw = engine.serialize();
  const serializeMs = performance.now() - s0;
  const g0 = performance.now();
  const packed = await gzip(raw);
  const gzipMs = performance.now() - g0;
  const samplesPerSec = (STREAMS * STEPS) / (scoreMs / 1000);

  const perPartition = TARGET / PARTITIONS;
  const f = (x: number, d = 1) => x.toFixed(d);
  const mb = (b: number) => `${f(b / 1024 ** 2)} MB`;
  console.log(`measured (${STREAMS} streams, ${STEPS} steps of ${STEP_MS / 1000} s, ${globalThis.gc ? "after gc" : "run with node --expose-gc for exact heap figures"}):`);
  console.log(`  memory per stream          ${f(heapPerStream / 1024)} KB`);
  console.log(`  state per stream           ${f(raw.length / STREAMS / 1024)} KB serialized, ${f(packed.length / STREAMS / 1024)} KB gzipped`);
  console.log(`  snapshot of ${STREAMS} streams  ${mb(packed.length)} in ${f(serializeMs + gzipMs, 0)} ms (serialize ${f(serializeMs, 0)} + gzip ${f(gzipMs, 0)})`);
  console.log(`  scoring                    ${f(samplesPerSec / 1000)} k samples/s on one core (engine only)`);
  console.log(`projection to ${TARGET.toLocaleString("en")} active series, ${PARTITIONS} partitions, one sample per series every ${STEP_MS / 1000} s:`);
  const load = TARGET / (STEP_MS / 1000);
  console.log(`  load                       ${f(load / 1000, 0)} k samples/s`);
  console.log(`  per partition              ${perPartition.toLocaleString("en")} series, ${mb(perPartition * heapPerStream)} heap, snapshot ${mb((packed.length / STREAMS) * perPartition)} in ~${f(((serializeMs + gzipMs) / STREAMS) * perPartition / 1000)} s`);
  const byCpu = Math.ceil(load / (samplesPerSec * 0.5)); // half a core left for I/O, JSON, NATS, PostgreSQL writes
  const byMem = Math.ceil((TARGET * heapPerStream) / WORKER_MEMORY);
  console.log(`  workers by CPU             ${byCpu} (engine at 50 % of a core each)`);
  console.log(`  workers by memory          ${byMem} (4 GiB heap each; total ${f((TARGET * heapPerStream) / 1024 ** 3)} GiB)`);
  console.log(`  workers needed             ${Math.max(byCpu, byMem)} (at most ${PARTITIONS}: raise OMEN_PARTITIONS for more)`);
}

void main();

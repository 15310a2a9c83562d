import protobuf from "protobufjs";
import { describe, expect, it } from "vitest";
import { decompressSnappy, encodeWriteRequest } from "./remote-write";
import { scanCanonical, scanGeneral, scanWriteRequest, type ScannedWriteRequest } from "./write-request-scan";

/** Deterministic PRNG (mulberry32), so a failure reproduces. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STALE = new Float64Array(new Uint32Array([2, 0x7ff00000]).buffer)[0]!;

/** A WriteRequest in many encodings: canonical ones, field orders scanCanonical gives up on, odd values. */
function randomRequest(rand: () => number): Uint8Array {
  const pick = <T,>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  const text = () => "abcdefghij_:.-".repeat(40).slice(0, Math.floor(rand() ** 3 * 300));
  const w = protobuf.Writer.create();
  const seriesCount = Math.floor(rand() * 12);
  for (let s = 0; s < seriesCount; s++) {
    const fields: Uint8Array[] = [];
    const labels = Math.floor(rand() * 6);
    for (let l = 0; l < labels; l++) {
      const label = protobuf.Writer.create();
      if (rand() < 0.95) label.uint32(10).string(l === 0 ? "__name__" : text());
      if (rand() < 0.95) label.uint32(18).string(text());
      fields.push(protobuf.Writer.create().uint32(10).bytes(label.finish()).finish());
    }
    const samples = Math.floor(rand() * 4);
    const sampleFields: Uint8Array[] = [];
    for (let k = 0; k < samples; k++) {
      const sample = protobuf.Writer.create();
      const value = pick([1.5, 0, -3, Number.NaN, STALE, Number.POSITIVE_INFINITY, rand() * 1e6]);
      const ts = pick([1_700_000_000_000 + k, 0, 1, -5, 2 ** 53 + 2, 2 ** 60, Math.floor(rand() * 2 ** 45)]);
      const order = rand();
      if (order < 0.1) sample.uint32(16).int64(ts).uint32(9).double(value);
      else if (order < 0.15) sample.uint32(9).double(value).uint32(9).double(1).uint32(16).int64(ts); // repeated field: last wins
      else if (order < 0.2) sample.uint32(9).double(value).uint32(24).uint32(7).uint32(16).int64(ts); // unknown field
      else if (order < 0.25) sample.uint32(13).fixed32(5).uint32(16).int64(ts); // value with the wrong wire type
      else {
        if (value !== 0 || rand() < 0.5) sample.uint32(9).double(value);
        if (ts !== 0 || rand() < 0.5) sample.uint32(16).int64(ts);
      }
      sampleFields.push(protobuf.Writer.create().uint32(18).bytes(sample.finish()).finish());
    }
    const layout = rand();
    let parts: Uint8Array[];
    if (layout < 0.6) parts = [...fields, ...sampleFields];
    else if (layout < 0.7) parts = [...sampleFields, ...fields];
    else if (layout < 0.8) parts = [...fields, protobuf.Writer.create().uint32(26).bytes(new Uint8Array([1, 2, 3])).finish(), ...sampleFields]; // exemplar-like
    else if (layout < 0.9) parts = fields.length > 1 ? [fields[0]!, ...sampleFields, ...fields.slice(1)] : [...fields, ...sampleFields]; // interleaved
    else parts = [...fields, protobuf.Writer.create().uint32(40).uint32(9).finish(), ...sampleFields]; // unknown varint field
    w.uint32(10).bytes(Buffer.concat(parts));
    if (rand() < 0.1) w.uint32(26).bytes(protobuf.Writer.create().uint32(8).uint32(1).uint32(18).string("m_total").finish());
    if (rand() < 0.03) w.uint32(40).uint32(1); // unknown top-level field
  }
  return w.finish();
}

/** Random corruption: truncation, a flipped byte, or a length byte changed. */
function corrupt(bytes: Uint8Array, rand: () => number): Uint8Array {
  if (bytes.length === 0) return bytes;
  const out = Uint8Array.from(bytes);
  const r = rand();
  if (r < 0.4) return out.subarray(0, Math.floor(rand() * out.length));
  out[Math.floor(rand() * out.length)] = Math.floor(rand() * 256);
  return out;
}

type Outcome = { ok: ScannedWriteRequest } | { error: string };
const outcome = (fn: () => ScannedWriteRequest): Outcome => {
  try {
    return { ok: fn() };
  } catch (e) {
    return { error: `${(e as Error).name}: ${(e as Error).message}` };
  }
};
const plain = (o: Outcome) =>
  "error" in o
    ? o
    : {
        ...o.ok,
        bytes: undefined,
        keyFrom: Array.from(o.ok.keyFrom),
        keyTo: Array.from(o.ok.keyTo),
        keyHash: Array.from(o.ok.keyHash),
        seriesStart: Array.from(o.ok.seriesStart),
        seriesEnd: Array.from(o.ok.seriesEnd),
        sampleSeries: Array.from(o.ok.sampleSeries),
        tsMs: Array.from(o.ok.tsMs),
        values: Array.from(o.ok.values),
      };

describe("scanCanonical", () => {
  it("takes the canonical path for what Prometheus sends", () => {
    const labels = [
      { name: "__name__", value: "node_cpu_seconds_total" },
      { name: "instance", value: "host-1:9100".repeat(20) }, // a label value over 127 bytes: 2-byte lengths
    ];
    const raw = decompressSnappy(encodeWriteRequest({ timeseries: [{ labels, samples: [{ value: 3.25, timestamp: 1_700_000_000_123 }] }] }), 1 << 20);
    const scan = scanCanonical(Buffer.from(raw), { maxSeriesPerRequest: 10 });
    expect(scan).not.toBeNull();
    expect(Array.from(scan!.tsMs)).toEqual([1_700_000_000_123]);
    expect(Array.from(scan!.values)).toEqual([3.25]);
  });

  it("gives exactly what the general scan gives, or leaves the request to it (same result or same error)", () => {
    const rand = rng(20261126);
    let canonical = 0;
    let errors = 0;
    for (let i = 0; i < 3000; i++) {
      let bytes = randomRequest(rand);
      if (rand() < 0.3) bytes = corrupt(bytes, rand);
      const limits = { maxSeriesPerRequest: rand() < 0.1 ? 2 : 50_000 };
      const buf = Buffer.from(bytes);
      try {
        if (scanCanonical(buf, limits)) canonical++;
      } catch {
        // the per-request series limit, thrown by both scans
      }
      const fast = outcome(() => scanWriteRequest(buf, limits));
      const reference = outcome(() => scanGeneral(buf, limits));
      if ("error" in reference) errors++;
      expect(plain(fast), `case ${i}`).toEqual(plain(reference));
    }
    // the generator must exercise both paths and the error paths
    expect(canonical).toBeGreaterThan(300);
    expect(errors).toBeGreaterThan(300);
  });
});

/**
 * Hand-built ingest payloads that encoders refuse to produce (int64 timestamps beyond 2^53,
 * label bytes that are not UTF-8, attribute values nested thousands deep), for the endpoint
 * tests and the ingest fuzz test. Built with protobufjs' Writer (iterative, so any depth).
 */
import protobuf from "protobufjs";
import snappy from "snappyjs";

const LEN = (field: number) => (field << 3) | 2;

/** A raw (uncompressed) WriteRequest of one series with the given label bytes and samples. */
export function writeRequestBytes(labels: [Uint8Array | string, Uint8Array | string][], samples: [bigint | number, number][]): Uint8Array {
  const w = protobuf.Writer.create();
  w.uint32(LEN(1)).fork();
  for (const [name, value] of labels) {
    w.uint32(LEN(1)).fork();
    if (typeof name === "string") w.uint32(LEN(1)).string(name);
    else w.uint32(LEN(1)).bytes(name);
    if (typeof value === "string") w.uint32(LEN(2)).string(value);
    else w.uint32(LEN(2)).bytes(value);
    w.ldelim();
  }
  for (const [ts, v] of samples) w.uint32(LEN(2)).fork().uint32(0x09).double(v).uint32(0x10).int64(ts.toString()).ldelim();
  w.ldelim();
  return w.finish();
}

export const snappyCompress = (raw: Uint8Array): Uint8Array => snappy.compress(raw) as Uint8Array;

/** OTLP JSON with one gauge point whose attribute value nests `depth` array values (built as text). */
export function nestedOtlpJson(depth: number, tMs = Date.now()): string {
  const value = '{"arrayValue":{"values":['.repeat(depth) + '{"stringValue":"x"}' + "]}}".repeat(depth);
  return `{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"m","gauge":{"dataPoints":[{"timeUnixNano":"${tMs}000000","asDouble":1,"attributes":[{"key":"k","value":${value}}]}]}}]}]}]}`;
}

/** The same request as binary protobuf. */
export function nestedOtlpProtobuf(depth: number, tMs = Date.now()): Uint8Array {
  const w = protobuf.Writer.create();
  w.uint32(LEN(1)).fork(); // ResourceMetrics
  w.uint32(LEN(2)).fork(); // ScopeMetrics
  w.uint32(LEN(2)).fork(); // Metric
  w.uint32(LEN(1)).string("m");
  w.uint32(LEN(5)).fork(); // Gauge
  w.uint32(LEN(1)).fork(); // NumberDataPoint
  w.uint32((3 << 3) | 1).fixed64(`${tMs}000000`);
  w.uint32((4 << 3) | 1).double(1);
  w.uint32(LEN(7)).fork(); // KeyValue
  w.uint32(LEN(1)).string("k");
  w.uint32(LEN(2)).fork(); // AnyValue
  for (let i = 0; i < depth; i++) w.uint32(LEN(5)).fork().uint32(LEN(1)).fork(); // array_value → values
  w.uint32(LEN(1)).string("x");
  for (let i = 0; i < depth; i++) w.ldelim().ldelim();
  for (let i = 0; i < 7; i++) w.ldelim();
  return w.finish();
}

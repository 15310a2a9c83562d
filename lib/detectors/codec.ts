/**
 * Encoding of typed arrays, the kind+version envelope every detector state uses, and typed
 * readers for saved states (no casts: each reader checks what it returns).
 *
 * A state's per-stream columns take one of two forms (`ColumnForm`):
 * - "text": base64 of their little-endian bytes: JSON-safe, exact (bit-for-bit doubles, NaN
 *   included) and ~3x smaller than JSON number arrays. Pure TS (no Buffer), so it runs in the
 *   browser too. Conformance tests and every snapshot written before the binary container.
 * - "binary": the Float64Arrays themselves (views of the live arrays where the layout allows),
 *   for a container that copies them out at once as raw bytes (the engine's snapshots,
 *   server/services/detection/state-container.ts). Restore reads either form.
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const LOOKUP = new Uint8Array(128);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

const CODES = Uint8Array.from(ALPHABET, (ch) => ch.charCodeAt(0));
const PAD = "=".charCodeAt(0);
const ascii = new TextDecoder();

/**
 * Standard base64 with padding. The characters are written as bytes and decoded into a string
 * once: building the string by concatenation made four small strings per three bytes, and a
 * snapshot of 20,000 streams (~180 MB of state) spent ~10 s, most of it in the GC, doing that.
 */
function bytesToBase64(bytes: Uint8Array): string {
  const n = bytes.length;
  const out = new Uint8Array(4 * Math.ceil(n / 3));
  let o = 0;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out[o] = CODES[(v >> 18) & 63]!;
    out[o + 1] = CODES[(v >> 12) & 63]!;
    out[o + 2] = CODES[(v >> 6) & 63]!;
    out[o + 3] = CODES[v & 63]!;
    o += 4;
  }
  if (i < n) {
    const b0 = bytes[i]!;
    const b1 = i + 1 < n ? bytes[i + 1]! : 0;
    const v = (b0 << 16) | (b1 << 8);
    out[o] = CODES[(v >> 18) & 63]!;
    out[o + 1] = CODES[(v >> 12) & 63]!;
    out[o + 2] = i + 1 < n ? CODES[(v >> 6) & 63]! : PAD;
    out[o + 3] = PAD;
  }
  return ascii.decode(out);
}

function base64ToBytes(s: string): Uint8Array {
  if (s.length % 4 !== 0) throw new Error("invalid base64 length");
  let pad = 0;
  if (s.endsWith("==")) pad = 2;
  else if (s.endsWith("=")) pad = 1;
  const n = (s.length / 4) * 3 - pad;
  const out = new Uint8Array(n);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const v =
      (LOOKUP[s.charCodeAt(i)]! << 18) |
      (LOOKUP[s.charCodeAt(i + 1)]! << 12) |
      (LOOKUP[s.charCodeAt(i + 2)]! << 6) |
      LOOKUP[s.charCodeAt(i + 3)]!;
    if (o < n) out[o++] = (v >> 16) & 255;
    if (o < n) out[o++] = (v >> 8) & 255;
    if (o < n) out[o++] = v & 255;
  }
  return out;
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function assertLE(): void {
  if (!littleEndian) throw new Error("big-endian platforms are not supported by the state codec");
}

export function encodeF64(a: Float64Array, length = a.length): string {
  assertLE();
  return bytesToBase64(new Uint8Array(a.buffer, a.byteOffset, length * 8));
}

export function decodeF64(s: string): Float64Array {
  assertLE();
  const b = base64ToBytes(s);
  if (b.length % 8 !== 0) throw new Error("invalid Float64Array payload");
  return new Float64Array(b.buffer, b.byteOffset, b.length / 8).slice();
}

/**
 * Doubles per base64 string of a large column: 6 Mi doubles (48 MiB) are 64 Mi characters, far
 * below V8's longest string (~536 M characters), which a single column reaches at ~87,000
 * streams (Holt-Winters' rings: 123 M characters at 20,000).
 */
export const F64_CHUNK = 6 * 1024 * 1024;

/**
 * A saved column: base64 text (one string, or chunks), or the array itself (the binary form,
 * and in-memory copies such as `DetectionEngine.extract`'s).
 */
export type EncodedColumn = string | string[] | Float64Array;

/** How `serialize()` writes per-stream columns (see the module comment). */
export type ColumnForm = "text" | "binary";

/**
 * A column's first `length` doubles in `form`. The binary form is a view of `a`, not a copy: it
 * is valid until `a` next changes, so its container must copy it before the engine steps again.
 */
export function saveF64Column(a: Float64Array, length: number, form: ColumnForm): EncodedColumn {
  return form === "binary" ? a.subarray(0, length) : encodeF64Column(a, length);
}

/** A column's first `length` doubles as one base64 string, or as several of `chunk` doubles each. */
export function encodeF64Column(a: Float64Array, length = a.length, chunk = F64_CHUNK): EncodedColumn {
  if (length <= chunk) return encodeF64(a, length);
  const parts: string[] = [];
  for (let o = 0; o < length; o += chunk) parts.push(encodeF64(a.subarray(o, Math.min(length, o + chunk))));
  return parts;
}

/** Reads `encodeF64Column` output; null when `v` is neither a string nor an array of strings. */
export function decodeF64Column(v: unknown): Float64Array | null {
  if (typeof v === "string") return decodeF64(v);
  if (v instanceof Float64Array) return v;
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) return null;
  const parts = v.map((x: string) => decodeF64(x));
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function encodeI32(a: Int32Array, length = a.length): string {
  assertLE();
  return bytesToBase64(new Uint8Array(a.buffer, a.byteOffset, length * 4));
}

export function decodeI32(s: string): Int32Array {
  assertLE();
  const b = base64ToBytes(s);
  if (b.length % 4 !== 0) throw new Error("invalid Int32Array payload");
  return new Int32Array(b.buffer, b.byteOffset, b.length / 4).slice();
}

/** The envelope of every serialised detector/engine state. */
export interface StateEnvelope {
  kind: string;
  version: number;
}

export class StateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StateError";
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}

/** The `version` a saved state claims (undefined when it is not an object), before its envelope is checked. */
export function peekVersion(state: unknown): unknown {
  return isRecord(state) ? state.version : undefined;
}

/** Checks kind and version of a serialised state and returns it typed as a record. */
export function checkEnvelope(state: unknown, kind: string, version: number): Record<string, unknown> {
  if (!isRecord(state)) throw new StateError(`${kind}: state is not an object`);
  const s = state;
  if (s.kind !== kind) throw new StateError(`expected state of kind "${kind}", got "${String(s.kind)}"`);
  if (s.version !== version) throw new StateError(`${kind}: unsupported state version ${String(s.version)}`);
  return s;
}

export function getNumber(s: Record<string, unknown>, key: string): number {
  const v = s[key];
  if (typeof v !== "number") throw new StateError(`state field "${key}" must be a number`);
  return v;
}

export function getString(s: Record<string, unknown>, key: string): string {
  const v = s[key];
  if (typeof v !== "string") throw new StateError(`state field "${key}" must be a string`);
  return v;
}

export function getObject(s: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = s[key];
  if (!isRecord(v)) throw new StateError(`state field "${key}" must be an object`);
  return v;
}

export function getBoolean(s: Record<string, unknown>, key: string): boolean {
  const v = s[key];
  if (typeof v !== "boolean") throw new StateError(`state field "${key}" must be a boolean`);
  return v;
}

/** `s[key]`, one of `values`. */
export function getOneOf<T extends string>(s: Record<string, unknown>, key: string, values: readonly T[]): T {
  const v = values.find((x) => x === s[key]);
  if (v === undefined) throw new StateError(`state field "${key}" must be one of ${values.join(", ")}`);
  return v;
}

/** `s[key]`, an array of numbers (JSON's null, a saved NaN or ±Infinity, read as NaN). */
export function getNumbers(s: Record<string, unknown>, key: string): number[] {
  const v = s[key];
  if (!Array.isArray(v)) throw new StateError(`state field "${key}" must be an array of numbers`);
  return v.map((x: unknown) => {
    if (typeof x === "number") return x;
    if (x === null) return Number.NaN;
    throw new StateError(`state field "${key}" must be an array of numbers`);
  });
}

export function getStrings(s: Record<string, unknown>, key: string): string[] {
  const v = s[key];
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === "string")) throw new StateError(`state field "${key}" must be an array of strings`);
  return v.slice();
}

/** Whether saved value `v` has the JSON type of `like` (number, string, boolean, array, object). */
function sameType<T>(v: unknown, like: T): v is T {
  if (Array.isArray(like)) return Array.isArray(v);
  if (like === null) return v === null;
  return typeof v === typeof like && v !== null && !Array.isArray(v);
}

/**
 * The saved parameters `s[key]` of a detector whose parameters default to `defaults`: the keys
 * `defaults` has, each checked to be of its default's type (a number saved as JSON `null`, i.e.
 * a non-finite one, is left to its default). Keys the detector no longer has are dropped.
 */
export function readParams<P extends object>(s: Record<string, unknown>, defaults: P, key = "params"): Partial<P> {
  const saved = getObject(s, key);
  const out: Partial<P> = {};
  for (const k in defaults) {
    const v = saved[k];
    if (v === undefined || (v === null && typeof defaults[k] === "number")) continue;
    if (!sameType(v, defaults[k])) throw new StateError(`state field "${key}.${k}" has the wrong type`);
    out[k] = v;
  }
  return out;
}

/** A copy of `a` in a new array of `cap` elements (zero after a's own), for growable columns. */
export function grownFloat64(a: Float64Array, cap: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(cap);
  b.set(a.length > cap ? a.subarray(0, cap) : a);
  return b;
}

export function grownInt32(a: Int32Array, cap: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(cap);
  b.set(a.length > cap ? a.subarray(0, cap) : a);
  return b;
}

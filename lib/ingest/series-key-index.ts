/**
 * Raw series-identity bytes (a remote_write series' label fields, exactly as sent) → stream id,
 * without making a string per series. A receiver looks up every series of every request here, so
 * this is on the ingest hot path: keying a Map by a latin1 string of the bytes cost a string
 * allocation, V8's character-by-character hash and, with tens of thousands of keys, several
 * cache misses per lookup (~0.45 µs per series measured in the web process). Here the caller
 * hashes the bytes it has just scanned (`hashBytes`), the table is a flat open-addressing
 * array, and the stored keys sit in one byte arena in insertion order (senders repeat their
 * series in the same order, so successive lookups read the arena nearly sequentially).
 * Every hit is verified byte for byte: a hash collision can cost a probe, never a wrong stream.
 * Keys are passed as a DataView over the request so that they compare 4 bytes at a time.
 */
import { grownInt32 } from "@/lib/collections/grow";

/** 32-bit hash of bytes[from, to) (murmur3's mixing, 4 bytes per step). */
export function hashBytes(bytes: Uint8Array, from: number, to: number): number {
  let h = (to - from) | 0;
  let i = from;
  for (; i + 4 <= to; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  for (let s = 0; i < to; i++, s += 8) k |= bytes[i]! << s;
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

export class SeriesKeyIndex {
  /** entry + 1 per slot (0 = empty); linear probing, at most half full */
  private slots = new Int32Array(1024);
  private hashes = new Int32Array(512);
  private ids = new Int32Array(512);
  private offsets = new Int32Array(512);
  private lengths = new Int32Array(512);
  private arena = new Uint8Array(64 * 1024);
  private arenaView = new DataView(this.arena.buffer);
  private arenaUsed = 0;
  private count = 0;
  /** The entry after the last one `get` found (see there). */
  private next = 0;

  get size(): number {
    return this.count;
  }

  /**
   * The id stored for key bytes [from, to) of `view` (whose `hashBytes` is `hash`), or -1.
   * Senders repeat their series in the order they were first stored, so the entry after the
   * previous hit is tried first: a hit then reads the entry arrays and the arena sequentially and
   * skips the table's one random access.
   */
  get(view: DataView, from: number, to: number, hash: number): number {
    const next = this.next;
    if (next < this.count && this.hashes[next] === hash && this.lengths[next] === to - from && this.sameBytes(next, view, from, to)) {
      this.next = next + 1;
      return this.ids[next]!;
    }
    const e = this.find(view, from, to, hash);
    if (e < 0) return -1;
    this.next = e + 1;
    return this.ids[e]!;
  }

  /** Stores `id` (≥ 0) for key bytes [from, to) of `view`, whose `hashBytes` is `hash`. */
  set(view: DataView, from: number, to: number, hash: number, id: number): void {
    const found = this.find(view, from, to, hash);
    if (found >= 0) {
      this.ids[found] = id; // the same series twice in one request
      return;
    }
    const len = to - from;
    if ((this.count + 1) * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    if (this.count === this.ids.length) this.growEntries();
    if (this.arenaUsed + len > this.arena.length) this.growArena(this.arenaUsed + len);
    const e = this.count++;
    this.hashes[e] = hash;
    this.ids[e] = id;
    this.offsets[e] = this.arenaUsed;
    this.lengths[e] = len;
    this.arena.set(new Uint8Array(view.buffer, view.byteOffset + from, len), this.arenaUsed);
    this.arenaUsed += len;
    this.place(e);
  }

  clear(): void {
    this.slots.fill(0);
    this.count = 0;
    this.arenaUsed = 0;
    this.next = 0;
  }

  /** Entry holding the key, or -1. */
  private find(view: DataView, from: number, to: number, hash: number): number {
    const slots = this.slots;
    const mask = slots.length - 1;
    const len = to - from;
    for (let s = hash & mask; ; s = (s + 1) & mask) {
      const e = slots[s]! - 1;
      if (e < 0 || (this.hashes[e] === hash && this.lengths[e] === len && this.sameBytes(e, view, from, to))) return e;
    }
  }

  private sameBytes(e: number, view: DataView, from: number, to: number): boolean {
    const arena = this.arenaView;
    const shift = this.offsets[e]! - from;
    let i = from;
    for (; i + 4 <= to; i += 4) if (arena.getInt32(shift + i) !== view.getInt32(i)) return false;
    for (; i < to; i++) if (arena.getUint8(shift + i) !== view.getUint8(i)) return false;
    return true;
  }

  private place(e: number): void {
    const mask = this.slots.length - 1;
    let s = this.hashes[e]! & mask;
    while (this.slots[s] !== 0) s = (s + 1) & mask;
    this.slots[s] = e + 1;
  }

  private rehash(slotCount: number): void {
    this.slots = new Int32Array(slotCount);
    for (let e = 0; e < this.count; e++) this.place(e);
  }

  private growEntries(): void {
    const grow = (a: Int32Array) => grownInt32(a, a.length * 2);
    this.hashes = grow(this.hashes);
    this.ids = grow(this.ids);
    this.offsets = grow(this.offsets);
    this.lengths = grow(this.lengths);
  }

  private growArena(need: number): void {
    const arena = new Uint8Array(Math.max(need, this.arena.length * 2));
    arena.set(this.arena.subarray(0, this.arenaUsed));
    this.arena = arena;
    this.arenaView = new DataView(arena.buffer);
  }
}

import type { DetectionEngine } from "@/lib/detectors/engine";

/**
 * Engine slot of each database id, for `DetectionEngine.stepSlots`: a typed-array read per point
 * instead of converting ids to strings and looking them up in the engine's Map. Valid for the
 * engine layout it was read under (`layoutVersion`); ids are dense serials, so an array indexed
 * by id stays small.
 */
export class SlotCache {
  /** domain + 1 per id (0: unknown) and the slot in that domain's engine */
  private dom = new Int16Array(0);
  private slot = new Int32Array(0);
  private readonly layouts: number[] = [];

  set(id: number, domain: number, slot: number): void {
    if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff || slot < 0) return;
    if (id >= this.dom.length) {
      const cap = Math.max(1024, 2 * id + 2);
      const dom = new Int16Array(cap);
      dom.set(this.dom);
      const sl = new Int32Array(cap);
      sl.set(this.slot);
      this.dom = dom;
      this.slot = sl;
    }
    this.dom[id] = domain + 1;
    this.slot[id] = slot;
  }

  /** Slots of `ids` in `domain` into `out`; false when any id is not cached there. */
  lookup(ids: ArrayLike<number>, m: number, domain: number, out: Int32Array): boolean {
    const dom = this.dom;
    const slot = this.slot;
    const want = domain + 1;
    for (let k = 0; k < m; k++) {
      const id = ids[k]!;
      // `dom[id]` is undefined for ids out of range (and non-integers): not cached
      if (dom[id] !== want) return false;
      out[k] = slot[id]!;
    }
    return true;
  }

  /** Re-reads every slot of `domain` when its engine's layout moved since they were cached. */
  refresh(domain: number, engine: DetectionEngine): void {
    if (this.layouts[domain] === engine.layoutVersion) return;
    this.layouts[domain] = engine.layoutVersion;
    for (let id = 0; id < this.dom.length; id++) if (this.dom[id] === domain + 1) this.dom[id] = 0;
    engine.streamIds.forEach((sid, k) => {
      const id = Number(sid);
      if (String(id) === sid) this.set(id, domain, k); // ids the adapter made ("7", never "007")
    });
  }
}

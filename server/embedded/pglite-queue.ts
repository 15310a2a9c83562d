import type { PGlite } from "@electric-sql/pglite";

/**
 * Replacement for pglite-socket's query queue. PGlite is one Postgres session; the socket
 * server multiplexes client connections onto it message by message, and the stock queue only
 * keeps a connection's messages together inside a transaction. An extended-protocol query
 * (Parse, Bind, Describe, Execute … Sync — what `pg` sends for every parameterised query) is
 * several messages, so two connections could interleave them and one would fail with
 * "unnamed prepared statement does not exist". This queue also gives a connection the session
 * from its first extended-protocol message until its Sync, and for a whole transaction.
 */
const SYNC = 0x53; // 'S'
/** Parse, Bind, Describe, Execute, Close, Flush: a sequence that only Sync completes. */
const EXTENDED = new Set([0x50, 0x42, 0x44, 0x45, 0x43, 0x48]);

interface Item {
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (e: unknown) => void;
}

export class ProtocolAwareQueue {
  private queue: Item[] = [];
  private processing = false;
  /** The connection that holds the session (mid extended-protocol sequence or in a transaction). */
  private owner: number | null = null;

  constructor(private readonly db: PGlite) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ handlerId, message, onData, resolve, reject });
      if (!this.processing) void this.process();
    });
  }

  private next(): Item | undefined {
    if (this.owner === null) return this.queue.shift();
    const i = this.queue.findIndex((q) => q.handlerId === this.owner);
    return i === -1 ? undefined : this.queue.splice(i, 1)[0];
  }

  private async process(): Promise<void> {
    this.processing = true;
    try {
      for (let item = this.next(); item; item = this.next()) {
        let bytes = 0;
        try {
          const it = item;
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(it.message, {
              onRawData: (d: Uint8Array) => {
                bytes += d.length;
                it.onData(d);
              },
            }),
          );
        } catch (e) {
          this.owner = null;
          item.reject(e);
          continue;
        }
        const type = item.message[0]!;
        const midSequence = EXTENDED.has(type) && type !== SYNC;
        this.owner = midSequence || this.db.isInTransaction() ? item.handlerId : null;
        item.resolve(bytes);
      }
    } finally {
      this.processing = false;
    }
  }

  getQueueLength(): number {
    return this.queue.length;
  }

  clearQueueForHandler(handlerId: number): void {
    this.queue = this.queue.filter((q) => {
      if (q.handlerId !== handlerId) return true;
      q.reject(new Error("Handler disconnected"));
      return false;
    });
  }

  /** A connection went away: roll back what it left open and let the others proceed. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.owner !== handlerId) return;
    if (this.db.isInTransaction()) await this.db.exec("ROLLBACK");
    this.owner = null;
    if (!this.processing) void this.process();
  }
}
